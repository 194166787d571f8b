// What an export is made from: a trained task model (HST + heads), its spec (config, head settings, classes,
// input size, normalisation, backbone) and what the project knows about it (class colours, metrics, version).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors } from '../io/safetensors';
import { resolveHstConfig } from '../model/config';
import { HstModel } from '../model/hst';
import { openProject } from '../store/project';
import type { ModelVersion } from '../store/models';
import { specPath, type TaskModelSpec } from '../task-model/model-spec';
import { TaskModel } from '../task-model/task-model';
import { loadTorchState } from './torch-state';

export interface ExportClass {
  name: string;
  color: string;
}

export interface ExportSource {
  model: TaskModel;
  spec: TaskModelSpec;
  /** class colours by training index (default: a fixed palette) */
  classes?: ExportClass[];
  metrics?: Record<string, unknown>;
  /** model version id and name in its project, when exported from one */
  version?: { id: number; name: string; createdAt: number; datasetRevision: number };
  /** sha256 of the installed backbone file, when the model was built on one */
  backboneSha256?: string;
}

/** The model version to export: the given id, else the newest active version, else the newest version. */
export function pickVersion(versions: ModelVersion[], project: string, id?: number): ModelVersion {
  if (versions.length === 0) {
    throw new Error(`project ${project} has no trained model yet: fine-tune one first (the Fine-tune button, or \`hst-studio train ${project}\`)`);
  }
  if (id !== undefined) {
    const v = versions.find((m) => m.id === id);
    if (!v) throw new Error(`project ${project} has no model version ${id} (versions: ${versions.map((m) => m.id).join(', ')})`);
    return v;
  }
  const active = versions.filter((m) => m.active);
  return (active.length ? active : versions).reduce((a, b) => (b.createdAt > a.createdAt || (b.createdAt === a.createdAt && b.id > a.id) ? b : a));
}

/** Loads a model version of a project (its weights file saved by saveTaskModel) for export. Caller disposes source.model. */
export async function loadVersionForExport(projectDir: string, versionId?: number): Promise<ExportSource> {
  const store = openProject(projectDir);
  let version: ModelVersion;
  let classes: ExportClass[];
  try {
    version = pickVersion(store.listModelVersions(), projectDir, versionId);
    classes = store.listClasses().map((c) => ({ name: c.name, color: c.color }));
  } finally {
    store.close();
  }
  const weights = version.files.find((f) => f.endsWith('.safetensors'));
  if (!weights) throw new Error(`model version ${version.id} (${version.name}) of ${projectDir} lists no weights file (.safetensors); it cannot be exported`);
  const path = join(projectDir, weights);
  if (!existsSync(path)) throw new Error(`model version ${version.id} (${version.name}): its weights file ${path} is missing`);
  const { model, spec } = await loadTaskModelForExport(path);
  const byName = new Map(classes.map((c) => [c.name, c]));
  return {
    model,
    spec,
    classes: spec.classes.map((n, i) => byName.get(n) ?? { name: n, color: defaultColor(i) }),
    metrics: version.metrics,
    version: { id: version.id, name: version.name, createdAt: version.createdAt, datasetRevision: version.datasetRevision },
    backboneSha256: spec.backbone.kind === 'pretrained' ? spec.backbone.sha256 : undefined,
  };
}

const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe'];
export function defaultColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

export function sourceClasses(src: ExportSource): ExportClass[] {
  return src.classes ?? src.spec.classes.map((n, i) => ({ name: n, color: defaultColor(i) }));
}

/**
 * Reads a model version's weights as model-spec.ts's loadTaskModel does (spec from the sidecar JSON, else the
 * file's metadata), but assigns the weights through loadTorchState: same values, without the wasm backend's slow
 * tf.transpose (a ViT-S took ~50 s to load that way).
 */
export async function loadTaskModelForExport(path: string): Promise<{ model: TaskModel; spec: TaskModelSpec }> {
  if (!existsSync(path)) throw new Error(`${path}: model file not found`);
  const file = await readSafetensors(path);
  let spec: TaskModelSpec;
  try {
    if (existsSync(specPath(path))) spec = JSON.parse(await readFile(specPath(path), 'utf8')) as TaskModelSpec;
    else if (file.metadata.task_model) spec = JSON.parse(file.metadata.task_model) as TaskModelSpec;
    else throw new Error(`no ${specPath(path)} and no task_model metadata: not an HST Studio task model`);
  } catch (err) {
    throw new Error(`${path}: cannot read the model spec (${(err as Error).message})`);
  }
  if (spec?.format !== 'hst-studio-task-model') throw new Error(`${specPath(path)}: not an HST Studio task model spec`);
  const cfg = resolveHstConfig({ ...spec.hst, num_classes: 0 }, specPath(path));
  const hst = new HstModel(cfg, { backbone: 'pending', seed: spec.seed });
  const model = new TaskModel(hst, spec.heads, spec.seed);
  try {
    loadTorchState(model, file.tensors, path);
  } catch (err) {
    model.dispose();
    throw err;
  }
  hst.backboneSource = spec.backbone.kind === 'random' || spec.backbone.kind === 'pretrained' ? spec.backbone : { kind: 'checkpoint', file: path };
  return { model, spec };
}
