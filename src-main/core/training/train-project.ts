// One training job end to end: project (or COCO folder) → dataset → pipelines → HST + heads on the chosen
// backbone → Trainer (checkpoints, resume) → held-out evaluation → model version in the project store.
// Used by `hst-studio train` and by the trainer worker thread.
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { getComputeInfo } from '../compute/engine';
import { dataDir as defaultDataDir } from '../compute/environment';
import { BackboneManager } from '../backbones/manager';
import { importCoco } from '../datasets/coco-import';
import type { Dataset } from '../datasets/types';
import { BACKBONE_SHAPES, SIDE_PRESETS, resolveHstConfig, type HstConfigInput, type SidePreset } from '../model/config';
import { HstModel } from '../model/hst';
import { loadBackbone, readBackboneFile } from '../model/backbone-load';
import { PROJECT_DB } from '../paths';
import { openProject } from '../store/project';
import type { FullProjectStore } from '../store/types';
import { createDataPipeline } from '../data/pipeline';
import { VIT_AUGREG_NORM, type AugmentOptions } from '../data/types';
import { evaluateModel, type EvalMetrics } from '../eval/evaluate-model';
import { buildTaskModel, saveTaskModel, type TaskModelSpec } from '../task-model/model-spec';
import { defaultHeadSettings, TaskModel, type HeadSettings, type TaskName } from '../task-model/task-model';
import { latestCheckpoint, Trainer, type TrainEvent } from './trainer';
import { FAST_AUGMENT, prepareFastTraining, type FastTraining } from './fast-fine-tune';
import { mainMetricTasks } from '../incremental/main-metric';
import { optimParamsFor } from './fast-step';
import { dataParallelByDefault, GradPool } from './parallel/grad-pool';

export interface TrainProjectOptions {
  /** studio project folder, or a folder with a COCO annotations.json and its images */
  project: string;
  tasks?: TaskName[];
  /** square input side (multiple of 16); CPU default 160 */
  size?: number;
  steps?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** installed backbone id, a backbone .safetensors file, or 'random' (explicit) */
  backbone?: string;
  resume?: boolean;
  side?: SidePreset;
  heads?: Partial<HeadSettings>;
  /** ViT shape overrides for a random backbone (tests use a shallow ViT: same architecture, smaller) */
  randomVit?: Partial<HstConfigInput>;
  seed?: number;
  checkpointEvery?: number;
  /** where backbones are installed (default: the studio data dir) */
  dataDir?: string;
  augment?: AugmentOptions | null;
  /**
   * 'full' (default): the HST recipe — MetaT, ViT LayerNorms, side network and heads train, the ViT runs every
   * step. 'fast': the ViT runs once per image into the feature cache and the side network + heads train from it
   * (studio projects only; flips are the only augmentation) — several times faster on CPU backends.
   */
  mode?: 'fast' | 'full';
  /** evaluate on the val split every N steps too (eval events for the live plots); 0/undefined: only at the end */
  evalEvery?: number;
  /**
   * decay cap of the weights' moving average that evaluations and the saved model use (optim/ema.ts; default
   * 0.999, which the warm-up keeps near a tenth of the steps taken in runs of a few hundred steps); 0: off
   */
  emaDecay?: number;
  /**
   * split each batch between gradient helper threads, one per core (parallel/grad-pool.ts); default: on for the
   * wasm backend on a machine with 2+ cores and batches of 2+
   */
  dataParallel?: boolean;
  /**
   * AdamW's second-moment decay. Default 0.99 in fast mode, 0.999 in full mode: a fast fine-tune is a few hundred
   * steps at a high learning rate while the gradient norm falls ~3× (demo: 6 → 2), and a second moment that
   * remembers ~1000 steps keeps the steps small long after the gradients shrank; one that remembers ~100 follows
   * them (demo: box AP50 0.8 at step 200 instead of 250, bench/results/finetune.md).
   */
  beta2?: number;
}

export interface TrainProjectResult {
  modelVersion: number | null;
  /** folder with model.safetensors + model.json */
  modelDir: string;
  metrics: EvalMetrics | null;
  steps: number;
  seconds: number;
  /** 'paused': stopped on request (signal reason PAUSE) with a checkpoint at `steps`; `resume: true` continues */
  status: 'done' | 'cancelled' | 'paused';
  backbone: string;
  trainableParams: number;
}

/** Abort reason that pauses instead of cancelling: the run stops after the current step and checkpoints it. */
export const PAUSE = 'pause';

export type TrainJobEvent = TrainEvent | { type: 'phase'; message: string } | { type: 'eval'; metrics: EvalMetrics; step?: number };

export interface Source {
  dataset: Dataset;
  store: FullProjectStore | null;
  /** where models/ lives */
  root: string;
  revision: number;
  close(): void;
}

/** Opens a studio project, or reads a COCO folder (annotations.json beside the images). */
export async function openSource(path: string): Promise<Source> {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${path}: no such folder (give a studio project folder or a folder with a COCO annotations.json)`);
  if (existsSync(join(dir, PROJECT_DB))) {
    const store = openProject(dir);
    return { dataset: store.toDataset(), store, root: dir, revision: store.revision(), close: () => store.close() };
  }
  const coco = join(dir, 'annotations.json');
  if (existsSync(coco)) {
    const dataset = await importCoco(coco);
    const errors = dataset.issues.filter((i) => i.level === 'error');
    if (errors.length) throw new Error(`${coco}: ${errors[0].record ? errors[0].record + ': ' : ''}${errors[0].message}`);
    return { dataset, store: null, root: dir, revision: 0, close: () => {} };
  }
  throw new Error(`${path}: neither a studio project (no ${PROJECT_DB}) nor a COCO folder (no annotations.json)`);
}

function labelledOnly(ds: Dataset, store: FullProjectStore): Dataset {
  const keep = new Set(store.listImages().items.filter((i) => i.status !== 'unlabeled').map((i) => String(i.id)));
  return { ...ds, images: ds.images.filter((i) => keep.has(i.key)), annotations: ds.annotations.filter((a) => keep.has(a.imageKey)) };
}

/** Tasks the labels support: masks/polygons → detect + instance + semantic; boxes only → detect. */
export function inferTasks(ds: Dataset): TaskName[] {
  const hasMask = ds.annotations.some((a) => a.geometry.kind !== 'box');
  const hasAny = ds.annotations.length > 0;
  if (!hasAny) throw new Error('the project has no annotations to train on: label some images first');
  return hasMask ? ['detect', 'instance', 'semantic'] : ['detect'];
}

export function noBackboneMessage(): string {
  return (
    'no pretrained backbone is installed. Install one with `hst-studio backbone download vit-tiny-16` (or ' +
    '`hst-studio backbone import FILE.safetensors`), or train on an explicitly random, untrained backbone with ' +
    '`--backbone random` (only sensible for the synthetic demo)'
  );
}

async function buildHst(o: TrainProjectOptions, size: number, side: SidePreset, seed: number): Promise<{ hst: HstModel; label: string }> {
  const s = SIDE_PRESETS[side];
  const sideCfg = { m_embed_dims: [...s.m_embed_dims], m_c_num_heads: [...s.m_c_num_heads] };
  const mgr = new BackboneManager(o.dataDir ?? defaultDataDir());
  let id = o.backbone;
  if (!id) {
    const installed = await mgr.list();
    if (installed.length === 0) throw new Error(noBackboneMessage());
    id = installed[0].id;
  }
  if (id === 'random') {
    const cfg = resolveHstConfig({ ...BACKBONE_SHAPES['vit-tiny-16'], img_size: size, ...sideCfg, ...o.randomVit, num_classes: 0 });
    return { hst: new HstModel(cfg, { backbone: 'random', seed }), label: 'random (untrained) backbone' };
  }
  const fromFile = existsSync(id) && statSync(id).isFile();
  const file = fromFile ? resolve(id) : (await mgr.require(id)).path;
  const manifest = fromFile ? null : await mgr.get(id);
  const weights = await readBackboneFile(file, manifest?.shape.num_heads);
  const cfg = resolveHstConfig({ ...weights.shape, ...sideCfg, num_classes: 0 });
  const hst = new HstModel(cfg, { backbone: 'pending', seed });
  try {
    loadBackbone(hst, weights, { name: fromFile ? file : id, file, sha256: manifest?.sha256 });
  } catch (err) {
    hst.dispose();
    throw err;
  }
  return { hst, label: fromFile ? file : id };
}

export async function trainProject(o: TrainProjectOptions, ctl: { signal?: AbortSignal; onEvent?: (e: TrainJobEvent) => void } = {}): Promise<TrainProjectResult> {
  const emit = ctl.onEvent ?? (() => {});
  const size = o.size ?? 160;
  if (!(Number.isInteger(size) && size >= 64 && size % 32 === 0)) throw new Error(`--size must be a multiple of 32 of at least 64, got ${size}`);
  const seed = o.seed ?? 0;
  const src = await openSource(o.project);
  let model: TaskModel | null = null;
  let trainer: Trainer | null = null;
  let runId: number | null = null;
  let poolStart: Promise<GradPool | null> | null = null;
  let pool: GradPool | null = null;
  try {
    // Train and evaluate on what is labelled: a project's unlabeled images (no annotation yet, not marked
    // reviewed) would otherwise teach "nothing here" wherever the user simply has not drawn yet.
    const ds = src.store ? labelledOnly(src.dataset, src.store) : src.dataset;
    const tasks = o.tasks ?? inferTasks(ds);
    const classes = ds.classes.map((c) => c.name);
    if (classes.length === 0) throw new Error('the project has no classes');
    const warnings: string[] = [];
    const onWarning = (m: string) => {
      warnings.push(m);
      emit({ type: 'warning', message: m });
    };
    let mode = o.mode ?? 'full';
    if (mode === 'fast' && !src.store) {
      mode = 'full';
      onWarning('fast mode needs a studio project (its feature cache); this COCO folder trains in full mode');
    }
    if (mode === 'fast' && o.augment && (o.augment.colorJitter > 0 || o.augment.scaleJitter[0] !== 1 || o.augment.scaleJitter[1] !== 1)) {
      onWarning('fast mode trains on cached ViT passes of the plain image and its flip: scale and colour jitter are off');
    }
    const trainData = createDataPipeline({
      dataset: ds, classes: { names: classes }, size, norm: VIT_AUGREG_NORM, seed, split: 'train', onWarning,
      augment: mode === 'fast' ? (o.augment === null ? null : FAST_AUGMENT) : o.augment === undefined ? { hflip: 0.5, scaleJitter: [0.8, 1.2], colorJitter: 0.1 } : o.augment,
      imageClass: tasks.includes('classify') ? 'sole-class' : 'none',
    });
    const valData = createDataPipeline({ dataset: ds, classes: { names: classes }, size, norm: VIT_AUGREG_NORM, seed, split: 'val', onWarning });
    if (trainData.length === 0) throw new Error('the train split has no images: mark some images as train');
    const batchSize = o.batchSize ?? 4;
    const steps = o.steps ?? Math.max(1, Math.ceil(((o.epochs ?? 20) * trainData.length) / batchSize));

    emit({ type: 'phase', message: 'building the model' });
    const side = o.side ?? 'small';
    const { hst, label } = await buildHst(o, size, side, seed);
    const heads = defaultHeadSettings(tasks, classes.length, o.heads);
    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1, hst: {}, heads, classes, inputSize: size, norm: VIT_AUGREG_NORM,
      backbone: hst.backboneSource, seed,
    };
    model = buildTaskModel(spec, hst);
    if (hst.backboneSource.kind === 'random') emit({ type: 'warning', message: 'training on a RANDOM (untrained) backbone, as asked with --backbone random' });

    const ckptDir = join(src.root, 'models', 'checkpoints');
    const trainOpts = { steps, batchSize, lr: o.lr ?? 2e-3, seed, checkpointEvery: o.checkpointEvery ?? 50, checkpointDir: ckptDir, warmupSteps: Math.min(50, Math.floor(steps / 10)), beta2: o.beta2 ?? (mode === 'fast' ? 0.99 : 0.999), emaDecay: o.emaDecay ?? 0.999 };
    // the gradient helpers start (each its own backend and copy of the model) while the feature cache fills
    if (o.dataParallel ?? dataParallelByDefault(getComputeInfo()?.backend, batchSize)) {
      poolStart = GradPool.start({ model, spec, params: optimParamsFor(model, mode), mode }, onWarning).catch((err: Error) => {
        onWarning(`${err.message}; training without gradient helpers`);
        return null;
      });
    }
    let fast: FastTraining | null = null;
    if (mode === 'fast') {
      emit({ type: 'phase', message: 'caching ViT features (fast mode)' });
      const tc = Date.now();
      try {
        fast = await prepareFastTraining(src.store!, model, spec, trainData, valData, {
          signal: ctl.signal,
          onProgress: (d, n) => emit({ type: 'phase', message: `caching ViT features: ${d}/${n}` }),
        });
      } catch (err) {
        // paused before the first step: nothing to checkpoint yet (a resume starts at step 0; the features cached
        // so far stay in the cache)
        if (ctl.signal?.reason === PAUSE) return { modelVersion: null, modelDir: '', metrics: null, steps: 0, seconds: 0, status: 'paused', backbone: label, trainableParams: model.trainableParamCount() };
        throw err;
      }
      emit({ type: 'phase', message: `ViT features cached: ${fast.computed} computed${fast.filledWith ? ` with ${fast.filledWith}` : ''} in ${((Date.now() - tc) / 1000).toFixed(1)} s; training the side network and heads (fast mode)` });
    }
    pool = poolStart ? await poolStart : null;
    if (pool) emit({ type: 'phase', message: `data-parallel: each batch is split between ${pool.size} gradient helper threads (${pool.info.backend}, ${pool.info.threads} thread each)` });
    trainer = new Trainer(model, trainData, trainOpts, { ...(fast ? { vitSource: fast.vitSource } : {}), pool });
    const evaluate = async (signal?: AbortSignal, only?: TaskName[]): Promise<EvalMetrics> => {
      const view = fast ? fast.predictor(model!) : null;
      try {
        return (await evaluateModel(view?.model ?? model!, ds, valData, classes, { signal, keepPredictions: false, batchSize: 8, only })).metrics;
      } finally {
        view?.restore();
      }
    };
    if (o.resume) {
      const last = await latestCheckpoint(ckptDir);
      if (!last) throw new Error(`--resume: no checkpoint under ${ckptDir}; start without --resume`);
      const prevSpec = JSON.parse(await readFile(join(ckptDir, 'spec.json'), 'utf8')) as { heads: HeadSettings; classes: string[]; inputSize: number; mode?: 'fast' | 'full' };
      if ((prevSpec.mode ?? 'full') !== mode) throw new Error(`--resume: the checkpoint was trained in ${prevSpec.mode ?? 'full'} mode, this run asks for ${mode} mode; resume in the same mode`);
      if (JSON.stringify(prevSpec.classes) !== JSON.stringify(classes) || prevSpec.inputSize !== size || JSON.stringify(prevSpec.heads.tasks) !== JSON.stringify(heads.tasks)) {
        throw new Error(`--resume: the checkpoint in ${last} was trained with other classes, size or tasks (the project changed since); start a new run (without --resume; in the studio: Start over)`);
      }
      await trainer.resume(last);
      emit({ type: 'phase', message: `resuming from ${last} (step ${trainer.currentStep})` });
      // the run this continues was paused or interrupted (the studio stopped while it ran): close it in the log
      for (const r of src.store?.listTrainingRuns() ?? []) {
        if (r.status === 'running') src.store!.finishTrainingRun(r.id, { status: 'failed', error: `interrupted; resumed from its checkpoint at step ${trainer.currentStep}` });
      }
    } else {
      await rm(ckptDir, { recursive: true, force: true });
      await mkdir(ckptDir, { recursive: true });
      await writeFile(join(ckptDir, 'spec.json'), JSON.stringify({ ...spec, mode }));
    }
    const backend = getComputeInfo()?.backend ?? 'unknown';
    if (src.store) runId = src.store.addTrainingRun({ config: { ...o, tasks, size, steps, backbone: label, backend, mode } }).id;
    const evalEvery = o.evalEvery ?? 0;
    const res = await trainer.run({
      signal: ctl.signal,
      afterStep: async (step) => {
        if (!(evalEvery > 0 && step % evalEvery === 0 && step < steps && valData.length > 0) || ctl.signal?.aborted) return;
        // during the run only the main metric's task (box AP50 for a detector); the final evaluation has them all
        const m = await trainer!.withEvalWeights(() => evaluate(ctl.signal, mainMetricTasks(model!.tasks)));
        emit({ type: 'eval', metrics: m, step });
        if (src.store && runId !== null) src.store.appendRunEvent(runId, 'eval', { step, metrics: m });
      },
      onEvent: (e) => {
        emit(e);
        if (src.store && runId !== null && (e.type === 'checkpoint' || (e.type === 'step' && (e.step % 10 === 0 || e.step === e.totalSteps)))) src.store.appendRunEvent(runId, e.type, e);
      },
    });
    if (res.status === 'cancelled' && ctl.signal?.reason === PAUSE) {
      // the checkpoint the trainer wrote at this very step (periodic) serves; otherwise write one now
      const ck = res.checkpoint && basename(res.checkpoint) === `step-${String(res.step).padStart(6, '0')}` ? res.checkpoint : await trainer.saveCheckpoint(ckptDir);
      emit({ type: 'checkpoint', step: res.step, dir: ck });
      if (src.store && runId !== null) src.store.finishTrainingRun(runId, { status: 'cancelled', error: `paused at step ${res.step}` });
      return { modelVersion: null, modelDir: '', metrics: null, steps: res.step, seconds: res.seconds, status: 'paused', backbone: label, trainableParams: trainer.trainableParamCount };
    }
    if (res.status === 'cancelled') {
      if (src.store && runId !== null) src.store.finishTrainingRun(runId, { status: 'cancelled' });
      return { modelVersion: null, modelDir: '', metrics: null, steps: res.step, seconds: res.seconds, status: 'cancelled', backbone: label, trainableParams: trainer.trainableParamCount };
    }

    trainer.useAveragedWeights();
    let metrics: EvalMetrics | null = null;
    if (valData.length > 0) {
      emit({ type: 'phase', message: `evaluating on ${valData.length} val images` });
      // a pause that arrives after the last step has nothing left to pause: evaluation stops only on cancel
      const evalCtl = new AbortController();
      const onAbort = () => ctl.signal?.reason !== PAUSE && evalCtl.abort();
      ctl.signal?.addEventListener('abort', onAbort);
      try {
        metrics = await evaluate(evalCtl.signal);
      } finally {
        ctl.signal?.removeEventListener('abort', onAbort);
      }
      emit({ type: 'eval', metrics, step: res.step });
    } else emit({ type: 'warning', message: 'the project has no val images: no held-out metrics were computed' });

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const modelDir = join(src.root, 'models', `${tasks.join('+')}-${stamp}`);
    await mkdir(modelDir, { recursive: true });
    const saved = await saveTaskModel(model, spec, join(modelDir, 'model.safetensors'));
    const trainable = trainer.trainableParamCount;
    let versionId: number | null = null;
    if (src.store) {
      const v = src.store.addModelVersion({
        name: `${tasks.join('+')} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
        task: tasks.join('+'),
        config: { spec, train: trainOpts, backbone: label, backend, trainableParams: trainable, seconds: res.seconds, size, mode },
        metrics: { ...(metrics ?? {}), trainLoss: res.loss },
        datasetRevision: src.revision,
        files: [relative(src.root, saved.weights), relative(src.root, saved.spec)],
        active: true,
      });
      versionId = v.id;
      if (runId !== null) src.store.finishTrainingRun(runId, { status: 'done', modelVersion: v.id });
    }
    return { modelVersion: versionId, modelDir, metrics, steps: res.step, seconds: res.seconds, status: 'done', backbone: label, trainableParams: trainable };
  } catch (err) {
    if (src.store && runId !== null) src.store.finishTrainingRun(runId, { status: 'failed', error: (err as Error).message });
    throw err;
  } finally {
    await (pool ?? (await poolStart))?.close();
    trainer?.dispose();
    model?.dispose();
    src.close();
  }
}

/** The newest model folder of a project / COCO folder: the active version's files, else the latest folder. */
export async function findModel(src: Source, task?: string): Promise<string> {
  if (src.store) {
    const versions = src.store.listModelVersions(task);
    const v = versions.find((m) => m.active && m.files.some((f) => f.endsWith('.safetensors'))) ?? versions.filter((m) => m.files.some((f) => f.endsWith('.safetensors'))).at(-1);
    if (v) return join(src.root, v.files.find((f) => f.endsWith('.safetensors'))!);
  }
  const { readdir } = await import('node:fs/promises');
  const dir = join(src.root, 'models');
  const names = existsSync(dir) ? (await readdir(dir)).filter((n) => existsSync(join(dir, n, 'model.safetensors'))).sort() : [];
  if (names.length === 0) throw new Error(`${src.root}: no trained model yet; run \`hst-studio train ${src.root}\` first`);
  return join(dir, names.at(-1)!, 'model.safetensors');
}
