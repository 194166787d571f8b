// Adapter export: only what HST trains (spec §1.2 freeze rule: side network, bridges, bridge LNs, MetaT, every
// ViT block's norm1/norm2; plus every head weight) and the BatchNorm buffers, with the task-model spec and the
// backbone's name and sha256. A studio that has the same backbone installed restores the model exactly from it.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readSafetensors, readSafetensorsHeader, serializeSafetensors, toFloat32, type StTensor } from '../io/safetensors';
import { openProject } from '../store/project';
import type { ModelVersion } from '../store/models';
import { saveTaskModel } from '../task-model/model-spec';
import { isTrainableName } from '../model/trainable';
import { resolveHstConfig } from '../model/config';
import type { BackboneManager } from '../backbones/manager';
import { buildHstWithBackbone } from '../backbones/use';
import { TaskModel } from '../task-model/task-model';
import type { TaskModelSpec } from '../task-model/model-spec';
import { AtomicOutput, type ExportIo } from './atomic-output';
import type { ExportSource } from './export-source';
import { currentSpec } from './safetensors-export';
import { loadTorchState, torchState } from './torch-state';

export const ADAPTER_FORMAT = 'hst-studio-adapter';

export interface AdapterBackbone {
  id: string;
  sha256: string | null;
}

/** The adapter's tensors: the HST's trainable set and buffers, and all head parameters (PyTorch names/layouts). */
export function adapterTensors(model: TaskModel): Map<string, StTensor> {
  const frozen = new Set([...model.hst.store.entries.values()].filter((e) => !e.buffer && !isTrainableName(e.name)).map((e) => e.name));
  return torchState(model, (name) => !frozen.has(name));
}

export async function exportAdapter(src: ExportSource, out: string, io: ExportIo = {}): Promise<{ file: string; bytes: number; tensors: number }> {
  const b = src.model.hst.backboneSource;
  if (b.kind !== 'pretrained') {
    throw new Error(
      b.kind === 'random'
        ? 'this model was trained on a random (untrained) backbone, which no other studio has; an adapter cannot restore it: export the full checkpoint (safetensors) instead'
        : 'this model does not record which pretrained backbone it was built on, so an adapter could not be restored; export the full checkpoint (safetensors) instead',
    );
  }
  const backbone: AdapterBackbone = { id: b.name, sha256: b.sha256 ?? src.backboneSha256 ?? null };
  const spec = currentSpec(src);
  let count = 0;
  const r = await AtomicOutput.run(out, 'file', io, async (o) => {
    const tensors = adapterTensors(src.model);
    count = tensors.size;
    o.checkCancel();
    const data = serializeSafetensors(tensors, {
      format: ADAPTER_FORMAT,
      version: '1',
      layout: 'PyTorch names and layouts: Linear (out,in), Conv (out,in,kh,kw)',
      task_model: JSON.stringify(spec),
      backbone: JSON.stringify(backbone),
      metrics: JSON.stringify(src.metrics ?? {}),
    });
    await o.write('', data);
    return o.bytes;
  });
  return { file: out, bytes: r, tensors: count };
}

/** Reads an adapter's spec and backbone without building anything (for the import dialog). */
export async function readAdapterInfo(file: string): Promise<{ spec: TaskModelSpec; backbone: AdapterBackbone; tensors: Map<string, StTensor> }> {
  const f = await readSafetensors(file);
  if (f.metadata.format !== ADAPTER_FORMAT) throw new Error(`${file}: not an HST Studio adapter (metadata format is ${JSON.stringify(f.metadata.format ?? null)})`);
  let spec: TaskModelSpec;
  let backbone: AdapterBackbone;
  try {
    spec = JSON.parse(f.metadata.task_model) as TaskModelSpec;
    backbone = JSON.parse(f.metadata.backbone) as AdapterBackbone;
  } catch (err) {
    throw new Error(`${file}: the adapter's task_model/backbone metadata is not valid JSON (${(err as Error).message})`);
  }
  if (spec?.format !== 'hst-studio-task-model' || typeof backbone?.id !== 'string') throw new Error(`${file}: the adapter's metadata lacks the task-model spec or the backbone name`);
  return { spec, backbone, tensors: f.tensors };
}

/**
 * Rebuilds the model from an installed backbone + the adapter. Fails with a sentence naming the backbone and how
 * to get it when it is not installed, and when the installed file differs from the one the adapter was trained on.
 */
export async function importAdapter(file: string, backbones: BackboneManager): Promise<{ model: TaskModel; spec: TaskModelSpec }> {
  const { spec, backbone, tensors } = await readAdapterInfo(file);
  let installed;
  try {
    installed = await backbones.require(backbone.id);
  } catch (err) {
    throw new Error(`${file}: this adapter needs the backbone '${backbone.id}', which is not installed here. ${(err as Error).message}`);
  }
  if (backbone.sha256 && installed.sha256 !== backbone.sha256) {
    throw new Error(`${file}: the installed backbone '${backbone.id}' (sha256 ${installed.sha256.slice(0, 12)}…) is not the file this adapter was trained on (sha256 ${backbone.sha256.slice(0, 12)}…); install that exact backbone to restore the model`);
  }
  const cfg = resolveHstConfig({ ...spec.hst, num_classes: 0 }, `${file} (task_model.hst)`);
  const hst = await buildHstWithBackbone(cfg, backbone.id, backbones, spec.seed);
  const model = new TaskModel(hst, spec.heads, spec.seed);
  try {
    const merged = torchState(model);
    for (const [name, t] of tensors) {
      const have = merged.get(name);
      if (!have) throw new Error(`${file}: tensor '${name}' does not belong to this model (config mismatch?)`);
      if (have.shape.join(',') !== t.shape.join(',')) throw new Error(`${file}: tensor '${name}' has shape [${t.shape}], the model expects [${have.shape}]`);
      toFloat32(t, name); // dtype check with a message naming the tensor
      merged.set(name, t);
    }
    const frozen = [...merged.keys()].filter((n) => !tensors.has(n));
    const missingTrainable = frozen.filter((n) => !hst.store.entries.get(n)?.backbone || isTrainableName(n));
    if (missingTrainable.length) throw new Error(`${file}: the adapter lacks ${missingTrainable.length} trained tensor(s): ${missingTrainable.slice(0, 6).join(', ')}`);
    loadTorchState(model, merged, file);
  } catch (err) {
    model.dispose();
    throw err;
  }
  hst.backboneSource = { kind: 'pretrained', name: backbone.id, file: installed.path, sha256: installed.sha256 };
  return { model, spec: { ...spec, backbone: hst.backboneSource } };
}

/**
 * Imports an adapter into a project as a new (inactive) model version: rebuilds the model on the installed backbone,
 * saves it under models/<folder>/model.safetensors and records the version with the adapter's metrics.
 */
export async function importAdapterToProject(projectDir: string, file: string, backbones: BackboneManager, opts: { name?: string } = {}): Promise<ModelVersion> {
  const metricsRaw = (await readSafetensorsHeader(file)).metadata.metrics;
  const { model, spec } = await importAdapter(file, backbones);
  const store = openProject(projectDir);
  try {
    const folder = `adapter-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const rel = join('models', folder, 'model.safetensors');
    await mkdir(join(projectDir, 'models', folder), { recursive: true });
    await saveTaskModel(model, spec, join(projectDir, rel));
    let metrics: Record<string, unknown> = {};
    try {
      metrics = metricsRaw ? (JSON.parse(metricsRaw) as Record<string, unknown>) : {};
    } catch {
      /* metrics are informative only */
    }
    return store.addModelVersion({
      name: opts.name ?? `imported ${basename(file)}`,
      task: spec.heads.tasks.join('+'),
      config: { ...spec, importedFrom: file },
      metrics,
      datasetRevision: store.revision(),
      files: [rel],
      active: false,
    });
  } finally {
    store.close();
    model.dispose();
  }
}
