// Incremental side-tuning as labels arrive (issue 8, spec §8 "fast incremental mode").
//
// The caller (app service / server) passes the image ids each applied changeset touched:
//   updater.notifyChanged(ids)   → debounced (settings.debounceMs); a change during a running update cancels
//                                  it and restarts the wait with the union of the ids
//   updater.flush()              → run the pending update now (tests, benchmarks, a "Update now" button)
//   updater.prepareCache()       → fill the feature cache for every labelled image (after a full fine-tune)
//   updater.on(listener)         → scheduled / started / progress / done / skipped / cancelled / error
//
// An update warm-starts from the task's active model version, trains a few steps on batches mixing the
// changed training images with replay of older labelled ones, evaluates on the fixed val split and stores the
// result as a new model version — active only if its main metric (box AP50, else mIoU, else accuracy) is not
// worse than the previous model's by more than epsilon; otherwise it is kept as a candidate with the reason.
//
// Fast mode (the default whenever a cache is possible): the ViT pass of every image comes from the float16
// feature cache and only the side network and heads train (MetaT and the ViT LayerNorms stay as the last full
// fine-tune left them, so the cached outputs stay valid). Full mode (settings.mode 'full', or a cache budget of
// 0) trains the whole trainable set with the ViT on the fly. Augmentation in fast mode is limited to what the
// cache holds: the plain letterbox and (settings.flips) its horizontal flip.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { tf } from '../compute/engine';
import type { Dataset } from '../datasets/types';
import { FeatureCache } from '../features/feature-cache';
import { frozenParamsVersion } from '../features/frozen-version';
import { projectPaths } from '../paths';
import type { ModelVersion } from '../store/models';
import type { FullProjectStore } from '../store/types';
import { createDataPipeline, type DataPipeline } from '../data/pipeline';
import { Rng } from '../data/rng';
import type { Sample } from '../data/types';
import { evaluateModel, type EvalMetrics } from '../eval/evaluate-model';
import { loadTaskModel, saveTaskModel, specPath, type TaskModelSpec } from '../task-model/model-spec';
import type { TaskModel } from '../task-model/task-model';
import { cachedPredictor } from './cached-vit';
import { backboneId } from '../features/backbone-id';
import { cacheVitSource } from '../features/cache-vit-source';
import { fillFeatureCache, type CacheVariant } from '../features/fill-cache';
import { variantRng } from '../data/variant-rng';
import { FastStepper } from '../training/fast-step';
import { cacheKeyOf, tileDataset, type TileOrigin } from '../training/tile-dataset';
import { mainMetric, mainMetricTasks, promotionDecision, type MainMetric } from './main-metric';
import { INCREMENTAL_SETTING, resolveIncrementalSettings, type IncrementalSettings } from './settings';

export type UpdateMode = 'fast' | 'full';

export interface UpdateDone {
  type: 'done';
  versionId: number;
  parentVersionId: number;
  promoted: boolean;
  reason: string;
  mode: UpdateMode;
  metrics: EvalMetrics;
  previous: EvalMetrics;
  main: MainMetric;
  previousMain: MainMetric;
  newImages: number;
  replayImages: number;
  steps: number;
  /** from the start of the update (after the debounce) to the new version being stored (and activated) */
  wallMs: number;
  /** ViT passes computed during this update (cache misses) */
  cacheComputed: number;
  /** where the wall time went, ms: model load, data + val cache, previous model's eval, train, eval, save */
  phaseMs: Record<'load' | 'prepare' | 'previousEval' | 'train' | 'eval' | 'save', number>;
}

export type UpdaterEvent =
  | { type: 'scheduled'; imageIds: number[]; dueInMs: number }
  | { type: 'started'; mode: UpdateMode; parentVersionId: number; newImages: number; replayImages: number; steps: number }
  | { type: 'progress'; phase: 'cache' | 'train' | 'eval' | 'save'; done: number; total: number; loss?: number }
  | UpdateDone
  | { type: 'skipped'; reason: string }
  | { type: 'cancelled'; reason: string }
  | { type: 'error'; message: string };

export type UpdateResult = UpdateDone | Extract<UpdaterEvent, { type: 'skipped' | 'cancelled' | 'error' }>;

export interface IncrementalUpdaterOptions {
  store: FullProjectStore;
  /** model-version task key of the models to update (e.g. 'detect') */
  task: string;
  /** overrides of the project setting `incremental` */
  settings?: Partial<IncrementalSettings>;
  /** feature-cache disk budget (default: project setting features.cacheBytes, else 2 GiB) */
  cacheBytes?: number;
  /** how a model version's files become a TaskModel (default: loadTaskModel on its .safetensors file) */
  loadModel?: (v: ModelVersion) => Promise<{ model: TaskModel; spec: TaskModelSpec }>;
}

interface Loaded {
  versionId: number;
  model: TaskModel;
  spec: TaskModelSpec;
  paramsVersion: string | null;
}

interface ImageInfo {
  id: number;
  hash: string;
  split: string;
  labelled: boolean;
}

/** A stand-in RNG for DataPipeline.sample: fixes the augmentation to "letterbox as in eval, flipped or not". */
function filterDataset(ds: Dataset, keys: Set<string>): Dataset {
  return { ...ds, images: ds.images.filter((im) => keys.has(im.key)), annotations: ds.annotations.filter((a) => keys.has(a.imageKey)) };
}

/**
 * What a model trains and evaluates on: the photos, or for a model trained on tiles (spec.tiles) the same tiles
 * of them, so that an update sees what the fine-tune saw and each tile keeps its own feature-cache entry.
 */
function asTrained(ds: Dataset, spec: TaskModelSpec): { dataset: Dataset; tileOf?: Map<string, TileOrigin> } {
  if (!spec.tiles) return { dataset: ds };
  const t = tileDataset(ds, spec.tiles);
  return { dataset: t.dataset, tileOf: t.tileOf };
}

export { backboneId };

export class IncrementalUpdater {
  private readonly listeners = new Set<(e: UpdaterEvent) => void>();
  private pending = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private running: { ids: number[]; controller: AbortController; done: Promise<UpdateResult> } | null = null;
  private loaded: Loaded | null = null;
  private readonly evalMemo = new Map<string, EvalMetrics>();
  private disposed = false;

  constructor(readonly opts: IncrementalUpdaterOptions) {}

  get settings(): IncrementalSettings {
    return resolveIncrementalSettings(this.opts.store.settings()[INCREMENTAL_SETTING], this.opts.settings);
  }

  on(listener: (e: UpdaterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: UpdaterEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must not break the update
      }
    }
  }

  /** Images whose labels changed (created/updated/deleted annotations). Schedules an update. */
  notifyChanged(imageIds: readonly number[]): void {
    if (this.disposed) return;
    const s = this.settings;
    if (!s.enabled) return;
    for (const id of imageIds) this.pending.add(id);
    if (this.running) {
      // newer labels make the running update stale: cancel it and fold its images into the next one
      for (const id of this.running.ids) this.pending.add(id);
      this.running.controller.abort();
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, s.debounceMs);
    this.timer.unref?.();
    this.emit({ type: 'scheduled', imageIds: [...this.pending], dueInMs: s.debounceMs });
  }

  /** Runs the pending update now (after any running one has stopped); null when nothing is pending. */
  async flush(): Promise<UpdateResult | null> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.running) await this.running.done;
    if (this.pending.size === 0) return null;
    const ids = [...this.pending];
    this.pending.clear();
    const controller = new AbortController();
    const done = this.update(ids, controller.signal).catch((err: unknown): UpdateResult => {
      const e: UpdateResult = { type: 'error', message: `incremental update failed: ${(err as Error).message}` };
      this.emit(e);
      return e;
    });
    this.running = { ids, controller, done };
    try {
      return await done;
    } finally {
      this.running = null;
    }
  }

  /** Resolves when no update is running or scheduled. */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running.done;
      else await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async modelFor(v: ModelVersion): Promise<Loaded> {
    if (this.loaded?.versionId === v.id) return this.loaded;
    const load = this.opts.loadModel ?? (async (mv: ModelVersion) => {
      const w = mv.files.find((f) => f.endsWith('.safetensors'));
      if (!w) throw new Error(`model version ${mv.id} (${mv.name}) has no .safetensors weights file`);
      return loadTaskModel(join(this.opts.store.dir, w));
    });
    const { model, spec } = await load(v);
    this.loaded?.model.dispose();
    this.loaded = { versionId: v.id, model, spec, paramsVersion: null };
    return this.loaded;
  }

  private cacheFor(l: Loaded): FeatureCache | null {
    const s = this.settings;
    if (s.mode === 'full') return null;
    l.paramsVersion ??= frozenParamsVersion(l.model.hst);
    const cache = new FeatureCache({ store: this.opts.store, backbone: backboneId(l.spec, l.model), size: l.spec.inputSize, paramsVersion: l.paramsVersion, maxBytes: this.opts.cacheBytes });
    return cache.maxBytes > 0 ? cache : null;
  }

  /** the cache key of a pipeline image (a photo's hash, or a tile's photo hash @ rectangle) */
  private hashFor(info: Map<string, ImageInfo>, tileOf?: ReadonlyMap<string, TileOrigin>): (key: string) => string | undefined {
    return cacheKeyOf({ get: (k) => info.get(k)?.hash }, tileOf);
  }

  private images(): Map<string, ImageInfo> {
    const out = new Map<string, ImageInfo>();
    for (const im of this.opts.store.listImages().items) {
      out.set(String(im.id), { id: im.id, hash: im.hash, split: im.split ?? 'train', labelled: im.status !== 'unlabeled' });
    }
    return out;
  }

  private pipeline(ds: Dataset, spec: TaskModelSpec, model: TaskModel, flips: boolean, seed: number): DataPipeline {
    return createDataPipeline({
      dataset: ds,
      classes: { names: spec.classes },
      size: spec.inputSize,
      norm: spec.norm,
      augment: flips ? { hflip: 1, scaleJitter: [1, 1], colorJitter: 0 } : null,
      seed,
      semantic: model.tasks.has('semantic'),
    });
  }

  private async sampleOf(pipe: DataPipeline, index: number, flipped: boolean): Promise<Sample> {
    return flipped ? pipe.sample(index, variantRng(true)) : pipe.evalSample(index);
  }

  /**
   * Fills the feature cache for every labelled image of the active model (train: both flips when flips are
   * on; val: unflipped). Returns how many ViT passes were computed (0 when all were cached or no cache).
   */
  async prepareCache(opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<number> {
    const active = this.opts.store.activeModel(this.opts.task);
    if (!active) return 0;
    const l = await this.modelFor(active);
    const cache = this.cacheFor(l);
    if (!cache) return 0;
    const info = this.images();
    const labelled = new Set([...info.values()].filter((i) => i.labelled).map((i) => String(i.id)));
    const { dataset: ds, tileOf } = asTrained(filterDataset(this.opts.store.toDataset(), labelled), l.spec);
    const hashFor = this.hashFor(info, tileOf);
    const s = this.settings;
    const pipe = this.pipeline(ds, l.spec, l.model, s.flips, s.seed);
    const variants: CacheVariant[] = [];
    for (let k = 0; k < pipe.length; k++) {
      const key = pipe.image(k).key;
      const im = info.get(tileOf?.get(key)?.imageKey ?? key)!;
      for (const flipped of s.flips && im.split !== 'val' ? [false, true] : [false]) variants.push({ pipe, index: k, flipped, hash: hashFor(key) });
    }
    const { computed } = await fillFeatureCache(cache, l.model.hst, variants, opts);
    // the baseline the first update is compared with, so that update does not pay for it
    const valKeys = new Set([...info.values()].filter((i) => i.labelled && i.split === 'val').map((i) => String(i.id)));
    const dsVal = filterDataset(ds, new Set(ds.images.map((im) => im.key).filter((k) => valKeys.has(tileOf?.get(k)?.imageKey ?? k))));
    const memoKey = `${active.id}|fast|${this.valSignature(dsVal, l.spec.classes)}`;
    if (!this.evalMemo.has(memoKey) && dsVal.images.length > 0) {
      const valPipe = this.pipeline(dsVal, l.spec, l.model, false, s.seed);
      this.evalMemo.set(memoKey, await this.evaluate(l.model, dsVal, valPipe, l.spec, cache, hashFor, opts.signal ?? new AbortController().signal));
    }
    return computed;
  }

  /** Metrics of `model` on `dataset` (its images must be labelled project images), ViT pass from the cache. */
  async evaluateCached(model: TaskModel, spec: TaskModelSpec, photos: Dataset, paramsVersion?: string): Promise<EvalMetrics> {
    const cache = new FeatureCache({ store: this.opts.store, backbone: backboneId(spec, model), size: spec.inputSize, paramsVersion: paramsVersion ?? frozenParamsVersion(model.hst), maxBytes: this.opts.cacheBytes });
    const { dataset, tileOf } = asTrained(photos, spec);
    const pipe = this.pipeline(dataset, spec, model, false, this.settings.seed);
    return this.evaluate(model, dataset, pipe, spec, cache, this.hashFor(this.images(), tileOf), new AbortController().signal);
  }

  private valSignature(ds: Dataset, classes: readonly string[]): string {
    const h = createHash('sha1');
    h.update(JSON.stringify(classes));
    for (const im of [...ds.images].sort((a, b) => (a.key < b.key ? -1 : 1))) h.update(`${im.key}\0`);
    for (const a of ds.annotations) h.update(JSON.stringify([a.imageKey, a.className, a.geometry, a.iscrowd ?? false]));
    return h.digest('hex');
  }

  private async evaluate(model: TaskModel, ds: Dataset, pipe: DataPipeline, spec: TaskModelSpec, cache: FeatureCache | null, hashFor: (key: string) => string | undefined, signal: AbortSignal): Promise<EvalMetrics> {
    // only what the promotion needs (box AP50 for a detector): an update's metrics are its main metric's task
    const only = mainMetricTasks(model.tasks);
    if (!cache) return (await evaluateModel(model, ds, pipe, spec.classes, { batchSize: 8, keepPredictions: false, signal, only })).metrics;
    const view = cachedPredictor(model, cache, hashFor);
    try {
      return (await evaluateModel(view.model, ds, pipe, spec.classes, { batchSize: 8, keepPredictions: false, signal, only })).metrics;
    } finally {
      view.restore();
    }
  }

  private async update(changed: number[], signal: AbortSignal): Promise<UpdateResult> {
    const t0 = performance.now();
    const store = this.opts.store;
    const s = this.settings;
    const skip = (reason: string): UpdateResult => {
      const e = { type: 'skipped' as const, reason };
      this.emit(e);
      return e;
    };
    if (!s.enabled) return skip('incremental updates are switched off in the settings');
    const parent = store.activeModel(this.opts.task);
    if (!parent) return skip(`no active ${this.opts.task} model yet: run Fine-tune first; later label changes then update it incrementally`);
    const phaseMs = { load: 0, prepare: 0, previousEval: 0, train: 0, eval: 0, save: 0 };
    let tPhase = performance.now();
    const lap = (k: keyof typeof phaseMs) => {
      const now = performance.now();
      phaseMs[k] += now - tPhase;
      tPhase = now;
    };
    const l = await this.modelFor(parent);
    const { model, spec } = l;
    lap('load');
    const cache = this.cacheFor(l);
    const mode: UpdateMode = cache ? 'fast' : 'full';

    const info = this.images();
    const trainKeys = new Set<string>();
    const valKeys = new Set<string>();
    for (const [k, im] of info) {
      if (!im.labelled) continue;
      (im.split === 'val' ? valKeys : im.split === 'train' ? trainKeys : null)?.add(k);
    }
    const changedKeys = new Set(changed.map(String).filter((k) => trainKeys.has(k)));
    if (changedKeys.size === 0) return skip('none of the changed images is a labelled training image; nothing to learn from');

    const dataset = store.toDataset();
    // a model trained on tiles learns the new labels on the same tiles (each tile of a changed photo is new)
    const train = asTrained(filterDataset(dataset, trainKeys), spec);
    const val = asTrained(filterDataset(dataset, valKeys), spec);
    const dsTrain = train.dataset;
    const dsVal = val.dataset;
    const photoOf = (key: string) => train.tileOf?.get(key)?.imageKey ?? key;
    const hashFor = this.hashFor(info, new Map([...(train.tileOf ?? []), ...(val.tileOf ?? [])]));
    const trainPipe = this.pipeline(dsTrain, spec, model, s.flips, s.seed);
    const valPipe = this.pipeline(dsVal, spec, model, false, s.seed);
    const newIdx: number[] = [];
    const oldIdx: number[] = [];
    for (let i = 0; i < trainPipe.length; i++) (changedKeys.has(photoOf(trainPipe.image(i).key)) ? newIdx : oldIdx).push(i);

    const rng = new Rng(s.seed, 0x1c2, parent.id, store.revision());
    const nNew = oldIdx.length === 0 ? s.batchSize : Math.max(1, Math.round(s.batchSize * (1 - s.replayFraction)));
    const nOld = s.batchSize - nNew;
    // the whole schedule up front: which images, which flip
    const plan: { index: number; flipped: boolean }[][] = [];
    const newOrder: number[] = [];
    for (let step = 0; step < s.steps; step++) {
      const batch: { index: number; flipped: boolean }[] = [];
      for (let j = 0; j < nNew; j++) {
        if (newOrder.length === 0) newOrder.push(...rng.shuffle([...newIdx]));
        batch.push({ index: newOrder.pop()!, flipped: s.flips && rng.next() < 0.5 });
      }
      for (let j = 0; j < nOld; j++) batch.push({ index: oldIdx[rng.int(0, oldIdx.length - 1)], flipped: s.flips && rng.next() < 0.5 });
      plan.push(batch);
    }
    // counted in photos (a tiled model trains on several tiles of each)
    const replayImages = new Set(plan.flat().map((b) => photoOf(trainPipe.image(b.index).key)).filter((k) => !changedKeys.has(k))).size;
    const newImages = new Set(newIdx.map((i) => photoOf(trainPipe.image(i).key))).size;
    this.emit({ type: 'started', mode, parentVersionId: parent.id, newImages, replayImages, steps: s.steps });

    const hashOfIndex = (pipe: DataPipeline, i: number) => hashFor(pipe.image(i).key)!;
    let cacheComputed = 0;

    // the previous model's score on today's val split (memoised while the val split is unchanged)
    const valSig = this.valSignature(dsVal, spec.classes);
    const ensureVal = async () => {
      if (!cache) return;
      const sources = [];
      for (let i = 0; i < valPipe.length; i++) {
        const h = hashOfIndex(valPipe, i);
        if (cache.has(h, false)) continue;
        const smp = await valPipe.evalSample(i).catch(() => null);
        if (smp) sources.push({ imageHash: h, flipped: false, image: smp.image, height: smp.height, width: smp.width });
      }
      cacheComputed += await cache.ensure(model.hst, sources, { signal, onProgress: (d, t) => this.emit({ type: 'progress', phase: 'cache', done: d, total: t }) });
    };
    await ensureVal();
    lap('prepare');
    const memoKey = `${parent.id}|${mode}|${valSig}`;
    let previous = this.evalMemo.get(memoKey);
    if (!previous) {
      previous = await this.evaluate(model, dsVal, valPipe, spec, cache, hashFor, signal);
      this.evalMemo.set(memoKey, previous);
    }
    lap('previousEval');

    const stepper = new FastStepper(model, { lr: s.lr, mode });
    const vitStats = { hits: 0, computed: 0 };
    const vitSource = cache ? cacheVitSource(cache, model.hst, hashFor, vitStats) : null;
    const saved = snapshot(model, stepper.params.map((p) => p.variable));
    let committed = false;
    const cancelled = (): UpdateResult => {
      const e = { type: 'cancelled' as const, reason: 'newer label changes arrived; the update restarts with them' };
      this.emit(e);
      return e;
    };
    try {
      for (let step = 0; step < plan.length; step++) {
        if (signal.aborted) return cancelled();
        const batch = plan[step];
        const samples = await Promise.all(batch.map((b) => this.sampleOf(trainPipe, b.index, b.flipped)));
        const vit = vitSource ? await vitSource(samples) : null;
        const r = await stepper.step(samples, vit);
        this.emit({ type: 'progress', phase: 'train', done: step + 1, total: plan.length, loss: r.loss });
        await new Promise((res) => setImmediate(res));
      }
      if (signal.aborted) return cancelled();
      lap('train');
      this.emit({ type: 'progress', phase: 'eval', done: 0, total: valPipe.length });
      let metrics: EvalMetrics;
      try {
        metrics = await this.evaluate(model, dsVal, valPipe, spec, cache, hashFor, signal);
      } catch (err) {
        if (signal.aborted) return cancelled();
        throw err;
      }
      if (signal.aborted) return cancelled();
      const main = mainMetric(metrics);
      const previousMain = mainMetric(previous);
      const decision = promotionDecision(main, previousMain, s.epsilon);
      lap('eval');

      this.emit({ type: 'progress', phase: 'save', done: 0, total: 1 });
      const folder = join(projectPaths(store.dir).models, `incremental-${Date.now()}-from-${parent.id}`);
      await mkdir(folder, { recursive: true });
      const weights = join(folder, 'model.safetensors');
      await saveTaskModel(model, spec, weights);
      const wallMs = performance.now() - t0;
      const incremental = { mode, parentId: parent.id, steps: s.steps, lr: s.lr, batchSize: s.batchSize, newImages, replayImages, flips: s.flips, paramsVersion: l.paramsVersion };
      const version = store.addModelVersion({
        name: `${parent.name.replace(/ \+\d+ \((fast|full)\)$/, '')} +${newImages} (${mode})`.slice(0, 200),
        task: parent.task,
        config: parent.config && typeof parent.config === 'object' ? { ...(parent.config as object), incremental } : { incremental },
        metrics: { ...metrics, main, previousMain, promoted: decision.promoted, reason: decision.reason, mode, wallMs: Math.round(wallMs), evaluated: mainMetricTasks(model.tasks) },
        datasetRevision: store.revision(),
        files: [relative(store.dir, weights), relative(store.dir, specPath(weights))],
        parentId: parent.id,
        active: decision.promoted,
      });
      if (decision.promoted) {
        committed = true;
        l.versionId = version.id;
        // full mode moved MetaT/LayerNorms: the cache key must be recomputed for the next update
        if (mode === 'full') l.paramsVersion = null;
        this.evalMemo.set(`${version.id}|${mode}|${valSig}`, metrics);
      }
      lap('save');
      const done: UpdateDone = {
        type: 'done', versionId: version.id, parentVersionId: parent.id, promoted: decision.promoted, reason: decision.reason, mode,
        metrics, previous, main, previousMain, newImages, replayImages, steps: s.steps, wallMs: performance.now() - t0, cacheComputed: cacheComputed + vitStats.computed, phaseMs,
      };
      this.emit(done);
      return done;
    } finally {
      if (!committed) restore(saved);
      tf.dispose(saved.map((x) => x.value));
      stepper.dispose();
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running?.controller.abort();
    const l = this.loaded;
    this.loaded = null;
    if (l) {
      if (this.running) void this.running.done.finally(() => l.model.dispose());
      else l.model.dispose();
    }
  }
}

/** Copies of what an update may change: the optimised variables and the BatchNorm running statistics. */
function snapshot(model: TaskModel, vars: tf.Variable[]): { variable: tf.Variable; value: tf.Tensor }[] {
  const all = new Set(vars);
  for (const e of model.hst.store.entries.values()) if (e.buffer) all.add(e.variable);
  for (const p of model.heads.params()) if (p.buffer) all.add(p.variable);
  return [...all].map((variable) => ({ variable, value: variable.clone() }));
}

function restore(saved: { variable: tf.Variable; value: tf.Tensor }[]): void {
  for (const s of saved) s.variable.assign(s.value);
}
