// Bringing back a task model trained outside the studio (the PyTorch trainer, trainers/pytorch): one
// .safetensors file with the studio's names and its spec in the `task_model` metadata. Checked (names, shapes,
// classes, the frozen backbone's hash), stored as a model version of the project, evaluated on the val split,
// with where it came from.
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { BackboneManager } from '../backbones/manager';
import { dataDir as defaultDataDir } from '../compute/environment';
import { readSafetensors } from '../io/safetensors';
import { openProject } from '../store/project';
import { createDataPipeline } from '../data/pipeline';
import { evaluateModel, type EvalMetrics } from '../eval/evaluate-model';
import { saveTaskModel, taskModelFromState, type TaskModelSpec } from '../task-model/model-spec';
import { labelledOnly } from '../task-model/start';
import { frozenBackboneNames, frozenTensorHash, type BundleSpec } from './training-bundle';

export interface ImportTrainedOptions {
  /** where backbones are installed (to check a pretrained backbone's file hash) */
  dataDir?: string;
  /** make the imported version the active one (default true, as a finished training run) */
  activate?: boolean;
  signal?: AbortSignal;
  onPhase?: (message: string) => void;
}

export interface ImportTrainedResult {
  modelVersion: number;
  name: string;
  metrics: EvalMetrics | null;
  origin: { trainer: string; file: string; train?: unknown };
  files: string[];
}

export async function importTrainedModel(projectDir: string, file: string, opts: ImportTrainedOptions = {}): Promise<ImportTrainedResult> {
  const phase = opts.onPhase ?? (() => {});
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${file}: no such file`);
  if (!/\.safetensors$/i.test(path)) throw new Error(`${file}: expected a .safetensors file (what the PyTorch trainer writes with --out)`);
  const st = await readSafetensors(path);
  if (!st.metadata.task_model) throw new Error(`${file}: no task_model metadata, so not an HST Studio task model (train it from an \`hst-studio export-training\` bundle)`);
  let spec: BundleSpec;
  try {
    spec = JSON.parse(st.metadata.task_model) as BundleSpec;
  } catch (err) {
    throw new Error(`${file}: its task_model metadata is not JSON (${(err as Error).message})`);
  }
  if (spec?.format !== 'hst-studio-task-model') throw new Error(`${file}: its task_model metadata is not an HST Studio task model spec`);

  const dir = resolve(projectDir);
  const store = openProject(dir);
  try {
    const ds = labelledOnly(store.toDataset(), store);
    const classes = ds.classes.map((c) => c.name);
    if (JSON.stringify(classes) !== JSON.stringify(spec.classes)) {
      throw new Error(`${file} was trained on the classes [${spec.classes.join(', ')}], the project has [${classes.join(', ')}]; export a new bundle (hst-studio export-training) and train again`);
    }
    // names and shapes: building the model from the spec and loading the file checks every tensor
    phase('checking names and shapes');
    const model = taskModelFromState(spec as TaskModelSpec, st.tensors, path);
    try {
      const names = frozenBackboneNames(model);
      const hash = frozenTensorHash(st.tensors, names, file);
      const claimed = spec.backboneHash ?? st.metadata.backbone_hash;
      if (!claimed) throw new Error(`${file}: the spec records no backbone hash, so the frozen backbone cannot be checked; train it from an \`hst-studio export-training\` bundle`);
      if (hash !== claimed) {
        throw new Error(`${file}: its frozen ViT weights (hash ${hash.slice(0, 12)}…) are not the exported backbone's (${claimed.slice(0, 12)}…): the backbone was changed or trained; refusing it`);
      }
      if (spec.backbone?.kind === 'pretrained' && spec.backboneSha256) {
        const mgr = new BackboneManager(opts.dataDir ?? defaultDataDir());
        const installed = await mgr.get(spec.backbone.name).catch(() => null);
        if (installed && installed.sha256 && installed.sha256 !== spec.backboneSha256) {
          throw new Error(`${file} was trained on backbone ${spec.backbone.name} with sha256 ${spec.backboneSha256.slice(0, 12)}…, the installed file under that name is ${installed.sha256.slice(0, 12)}…; refusing it`);
        }
      }
      model.hst.backboneSource = spec.backbone?.kind === 'random' || spec.backbone?.kind === 'pretrained' ? spec.backbone : { kind: 'checkpoint', file: path };

      let metrics: EvalMetrics | null = null;
      const valData = createDataPipeline({ dataset: ds, classes: { names: classes }, size: spec.inputSize, norm: spec.norm, seed: spec.seed, split: 'val' });
      if (valData.length > 0) {
        phase(`evaluating on ${valData.length} val images`);
        // a model trained on tiles is scored on whole photos, as the studio's own runs are
        metrics = (await evaluateModel(model, ds, valData, classes, { signal: opts.signal, keepPredictions: false, batchSize: 8, tiled: spec as TaskModelSpec })).metrics;
      }
      const tasks = [...spec.heads.tasks];
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const modelDir = join(dir, 'models', `imported-${tasks.join('+')}-${stamp}`);
      await mkdir(modelDir, { recursive: true });
      const saved = await saveTaskModel(model, spec as TaskModelSpec, join(modelDir, 'model.safetensors'));
      // the file as it came, next to the studio's copy (its metadata has the trainer's record)
      await copyFile(path, join(modelDir, 'original.safetensors'));
      let train: unknown;
      try {
        train = st.metadata.train ? JSON.parse(st.metadata.train) : undefined;
      } catch {
        train = st.metadata.train;
      }
      const origin = { trainer: st.metadata.origin ?? 'external', file: basename(path), train };
      const name = `${tasks.join('+')} imported ${new Date().toISOString().slice(0, 16).replace('T', ' ')} (${origin.trainer})`;
      const files = [relative(dir, saved.weights), relative(dir, saved.spec), relative(dir, join(modelDir, 'original.safetensors'))];
      const v = store.addModelVersion({
        name,
        task: tasks.join('+'),
        config: { spec, origin, backbone: spec.backboneId ?? null, size: spec.inputSize, trainer: st.metadata.trainer ?? null },
        metrics: { ...(metrics ?? {}) },
        datasetRevision: store.revision(),
        files,
        active: opts.activate ?? true,
      });
      return { modelVersion: v.id, name, metrics, origin, files };
    } finally {
      model.dispose();
    }
  } finally {
    store.close();
  }
}
