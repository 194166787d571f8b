// One training job end to end: project (or COCO folder) → dataset → pipelines → HST + heads on the chosen
// backbone → Trainer (checkpoints, resume) → held-out evaluation → model version in the project store.
// Used by `hst-studio train` and by the trainer worker thread.
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { getComputeInfo } from '../compute/engine';
import { dataDir as defaultDataDir } from '../compute/environment';
import { importCoco } from '../datasets/coco-import';
import type { Dataset } from '../datasets/types';
import type { HstConfigInput, SidePreset } from '../model/config';
import { PROJECT_DB } from '../paths';
import { openProject } from '../store/project';
import type { FullProjectStore } from '../store/types';
import { createDataPipeline } from '../data/pipeline';
import { VIT_AUGREG_NORM, type AugmentOptions } from '../data/types';
import { evaluateModel, evaluateOnPhotos, type EvalMetrics } from '../eval/evaluate-model';
import { buildTaskModel, saveTaskModel, type TaskModelSpec } from '../task-model/model-spec';
import { defaultHeadSettings, TaskModel, type HeadSettings, type TaskName } from '../task-model/task-model';
import { latestCheckpoint, Trainer, type TrainEvent } from './trainer';
import { FAST_AUGMENT, prepareFastTraining, type FastTraining } from './fast-fine-tune';
import { mainMetricTasks } from '../incremental/main-metric';
import { optimParamsFor } from './fast-step';
import { dataParallelByDefault, GradPool } from './parallel/grad-pool';
import type { TrainOverrides, TrainPlan } from '../../contract/api';
import { applyPlanSplit, inferTasks, planDataset, writeHoldout } from './plan-project';
import { classificationFromTags, labelsAreTags } from './tags-classification';
// labelledOnly and buildHst live in task-model/start.ts (the training bundle export needs them without training/)
import { buildHst, labelledOnly } from '../task-model/start';
import { tileDataset, type TileOrigin } from './tile-dataset';
import type { TileSpec } from './tiles';

export interface TrainProjectOptions {
  /** studio project folder, or a folder with a COCO annotations.json and its images */
  project: string;
  tasks?: TaskName[];
  /** square input side (multiple of 32); unset settings come from the planner (plan.ts), as the studio's */
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
  /** the plan to run (the CLI plans first to print it); without it trainProject asks the planner itself */
  plan?: TrainPlan;
  /**
   * cut photos larger than a tile into tiles (tile-dataset.ts) and train on those, each resized to `size`;
   * default: the plan's tiles; null: whole photos
   */
  tiles?: TileSpec | null;
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
  // or a COCO export by split (annotations/instances_<split>.json beside images/<split>/, as export-dataset writes)
  const bySplit = join(dir, 'annotations');
  if (existsSync(coco) || existsSync(bySplit)) {
    const dataset = await importCoco(existsSync(coco) ? coco : dir);
    const errors = dataset.issues.filter((i) => i.level === 'error');
    if (errors.length) throw new Error(`${coco}: ${errors[0].record ? errors[0].record + ': ' : ''}${errors[0].message}`);
    return { dataset, store: null, root: dir, revision: 0, close: () => {} };
  }
  throw new Error(`${path}: neither a studio project (no ${PROJECT_DB}) nor a COCO folder (no annotations.json)`);
}

/**
 * What a run trains on: the labelled images, or, when the labels are image tags only (and the tasks are
 * classification's), the tags as image classes. Tagged images count as labelled whatever their status.
 */
export function trainingDataset(ds: Dataset, store: FullProjectStore | null, tasks?: readonly TaskName[]): { dataset: Dataset; fromTags: boolean; notes: string[] } {
  if (labelsAreTags(ds) && (!tasks || (tasks.length === 1 && tasks[0] === 'classify'))) {
    const view = classificationFromTags(ds);
    const notes = view.multiTagged ? [`${view.multiTagged} image${view.multiTagged === 1 ? '' : 's'} with several tags left out of classification (one class per image)`] : [];
    return { dataset: view.dataset, fromTags: true, notes };
  }
  return { dataset: store ? labelledOnly(ds, store) : ds, fromTags: false, notes: [] };
}

export { inferTasks, noBackboneMessage } from './plan-project';

export async function trainProject(o: TrainProjectOptions, ctl: { signal?: AbortSignal; onEvent?: (e: TrainJobEvent) => void } = {}): Promise<TrainProjectResult> {
  const emit = ctl.onEvent ?? (() => {});
  if (o.size !== undefined && !(Number.isInteger(o.size) && o.size >= 64 && o.size % 32 === 0)) throw new Error(`--size must be a multiple of 32 of at least 64, got ${o.size}`);
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
    const view = trainingDataset(src.dataset, src.store, o.tasks);
    let ds = view.dataset;
    // the one planner decides every setting the caller left open (and a val split when there is none)
    const plan = o.plan ?? (await planSource(src, o));
    if (plan.val?.source === 'holdout') {
      ds = applyPlanSplit(ds, plan);
      if (src.store) writeHoldout(src.store, plan);
      emit({ type: 'phase', message: `val split: ${plan.val.keys.length} labelled images held out (${Math.round((plan.val.fraction ?? 0) * 100)} %, seed ${plan.val.seed})${src.store ? ' and saved as the project\'s val split' : ''}` });
    }
    // large photos with small objects: train on their tiles (val too: the during-run curve is on val tiles)
    const tiles: TileSpec | null = o.tiles !== undefined ? o.tiles : plan.tiles ? { size: plan.tiles.size, overlap: plan.tiles.overlap } : null;
    let tileOf: Map<string, TileOrigin> | undefined;
    // the photos themselves (with the run's val split): a tiled model's final metrics are on whole photos
    const photos = ds;
    if (tiles) {
      const t = tileDataset(ds, tiles);
      ds = t.dataset;
      tileOf = t.tileOf;
      emit({ type: 'phase', message: `tiles: ${t.photosCut} photo${t.photosCut === 1 ? '' : 's'} cut into ${t.tiles} tiles of ${tiles.size} px (overlap ${tiles.overlap})${t.cutAway ? `; ${t.cutAway} shape${t.cutAway === 1 ? '' : 's'} less than half inside a tile left out of it` : ''}` });
    }
    const size = o.size ?? plan.size;
    const tasks = o.tasks ?? (plan.tasks as TaskName[]);
    const classes = ds.classes.map((c) => c.name);
    if (classes.length === 0) throw new Error('the project has no classes');
    const warnings: string[] = [];
    const onWarning = (m: string) => {
      warnings.push(m);
      emit({ type: 'warning', message: m });
    };
    for (const n of view.notes) onWarning(n);
    let mode = o.mode ?? plan.mode ?? 'full';
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
    const batchSize = o.batchSize ?? plan.batchSize;
    const steps = o.steps ?? (o.epochs !== undefined ? Math.max(1, Math.ceil((o.epochs * trainData.length) / batchSize)) : plan.steps);

    emit({ type: 'phase', message: 'building the model' });
    const side = o.side ?? plan.side ?? 'small';
    const { hst, label } = await buildHst({ ...o, backbone: o.backbone ?? plan.backbone }, size, side, seed);
    const heads = defaultHeadSettings(tasks, classes.length, { ...(plan.fpnWidth ? { fpnWidth: plan.fpnWidth } : {}), ...o.heads });
    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1, hst: {}, heads, classes, inputSize: size, norm: VIT_AUGREG_NORM,
      backbone: hst.backboneSource, seed, ...(tiles ? { tiles } : {}),
    };
    model = buildTaskModel(spec, hst);
    if (hst.backboneSource.kind === 'random') emit({ type: 'warning', message: 'training on a RANDOM (untrained) backbone, as asked with --backbone random' });

    const ckptDir = join(src.root, 'models', 'checkpoints');
    const trainOpts = { steps, batchSize, lr: o.lr ?? plan.lr, seed, checkpointEvery: o.checkpointEvery ?? 50, checkpointDir: ckptDir, warmupSteps: Math.min(50, Math.floor(steps / 10)), beta2: o.beta2 ?? (mode === 'fast' ? 0.99 : 0.999), emaDecay: o.emaDecay ?? 0.999 };
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
          tileOf,
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
      const prevSpec = JSON.parse(await readFile(join(ckptDir, 'spec.json'), 'utf8')) as { heads: HeadSettings; classes: string[]; inputSize: number; mode?: 'fast' | 'full'; tiles?: TileSpec | null };
      if ((prevSpec.mode ?? 'full') !== mode) throw new Error(`--resume: the checkpoint was trained in ${prevSpec.mode ?? 'full'} mode, this run asks for ${mode} mode; resume in the same mode`);
      if (JSON.stringify(prevSpec.classes) !== JSON.stringify(classes) || prevSpec.inputSize !== size || JSON.stringify(prevSpec.heads.tasks) !== JSON.stringify(heads.tasks)) {
        throw new Error(`--resume: the checkpoint in ${last} was trained with other classes, size or tasks (the project changed since); start a new run (without --resume; in the studio: Start over)`);
      }
      if (JSON.stringify(prevSpec.tiles ?? null) !== JSON.stringify(tiles)) {
        throw new Error(`--resume: the checkpoint was trained ${prevSpec.tiles ? `on tiles of ${prevSpec.tiles.size} px` : 'on whole photos'}, this run ${tiles ? `on tiles of ${tiles.size} px` : 'on whole photos'}; start a new run (without --resume; in the studio: Start over)`);
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
    if (src.store) runId = src.store.addTrainingRun({ config: { ...o, tasks, size, steps, backbone: label, backend, mode, tiles } }).id;
    const evalEvery = o.evalEvery ?? (o.plan ? plan.evalEvery ?? 0 : 0);
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
      // A tiled model's final metrics are what the user gets: each val photo cut into the same tiles, predicted and
      // merged, against the photo's own labels (during the run the curve is on val tiles, which is cheaper).
      emit({ type: 'phase', message: tiles ? `evaluating on the val photos (each cut into tiles, predicted and merged)` : `evaluating on ${valData.length} val images` });
      // a pause that arrives after the last step has nothing left to pause: evaluation stops only on cancel
      const evalCtl = new AbortController();
      const onAbort = () => ctl.signal?.reason !== PAUSE && evalCtl.abort();
      ctl.signal?.addEventListener('abort', onAbort);
      try {
        if (tiles) {
          // fast mode: each val tile's ViT pass is the one cached for the during-run curve (same rectangles)
          const view = fast ? fast.predictor(model) : null;
          try {
            metrics = (await evaluateOnPhotos(view?.model ?? model, photos, spec, { signal: evalCtl.signal, keepPredictions: false, batchSize: 8, onWarning })).metrics;
          } finally {
            view?.restore();
          }
        } else metrics = await evaluate(evalCtl.signal);
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
        config: { spec, train: trainOpts, backbone: label, backend, trainableParams: trainable, seconds: res.seconds, size, mode, ...(tiles ? { tiles } : {}) },
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

/** The plan for a project / COCO folder: the studio's planner over its labelled images, with the caller's settings as overrides. */
export async function planSource(src: Source, o: PlanSourceOptions): Promise<TrainPlan> {
  const tasks = o.tasks ?? inferTasks(src.dataset);
  const ds = trainingDataset(src.dataset, src.store, tasks).dataset;
  const plan = (steps?: number) => planDataset(ds, {
    overrides: {
      ...o.planOverrides, ...(steps !== undefined ? { steps } : {}),
      ...(o.size !== undefined ? { size: o.size } : {}), ...(o.steps !== undefined ? { steps: o.steps } : {}),
      ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}), ...(o.lr !== undefined ? { lr: o.lr } : {}),
      ...(o.backbone !== undefined ? { backbone: o.backbone } : {}), ...(o.mode !== undefined ? { mode: o.mode } : {}),
      ...(o.side !== undefined ? { side: o.side } : {}), ...(o.heads?.fpnWidth !== undefined ? { fpnWidth: o.heads.fpnWidth } : {}),
    },
    tasks,
    dataDir: o.dataDir ?? defaultDataDir(),
    canCache: src.store !== null,
  });
  const p = await plan();
  // --epochs: that many passes over the plan's train samples
  return o.epochs !== undefined && o.steps === undefined ? plan(Math.max(1, Math.ceil((o.epochs * p.trainImages * (p.tiles?.perImage ?? 1)) / p.batchSize))) : p;
}

export type PlanSourceOptions = Omit<TrainProjectOptions, 'project'> & { planOverrides?: TrainOverrides };

/** Opens a project / COCO folder and plans its run (what `hst-studio train` prints before training). */
export async function planProject(project: string, o: PlanSourceOptions = {}): Promise<TrainPlan> {
  const src = await openSource(project);
  try {
    return await planSource(src, o);
  } finally {
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
