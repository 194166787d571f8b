// The label → fine-tune → predict → accept → export loop behind the API: handlers for train.*, models.*,
// predict.run, predictions.*, al.queue, export.run and incremental.settings, plus the incremental updater that
// follows every applied changeset. StudioService owns the project; this owns the model side of it.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkSource, ensureDir } from '../io/safe-mkdir';
import type { ModelInfo } from '../../contract/api';
import type { Annotation, Changeset } from '../../contract/schemas';
import { labelNextQueue } from '../active/uncertainty';
import { IncrementalUpdater, type UpdaterEvent } from '../incremental/updater';
import { INCREMENTAL_SETTING, resolveIncrementalSettings } from '../incremental/settings';
import type { ModelVersion } from '../store/models';
import type { NewPrediction } from '../store/predictions';
import type { FullProjectStore, ProjectStore } from '../store/types';
import { exportInWorker, exportTrainingInWorker, importModelInWorker, predictInWorker, untilDone } from '../jobs/worker-client';
import type { Handlers } from './dispatch';
import { ApiError, badRequest, conflict, notFound } from './errors';
import { confusion, evalSummary, type ValImage } from './eval-summary';
import type { Emit, JobRunner } from './jobs';
import { TrainService } from './train-service';
import { adapterRefusal, versionOrigin, versionSeconds } from './version-facts';

type LoopMethods =
  | 'train.plan' | 'train.start' | 'train.cancel' | 'train.pause' | 'train.resume' | 'train.status'
  | 'models.list' | 'models.get' | 'models.setActive' | 'models.delete' | 'models.compare'
  | 'predict.run' | 'predictions.list' | 'predictions.accept' | 'predictions.reject' | 'al.queue'
  | 'export.run' | 'export.training' | 'models.import' | 'incremental.settings';
export type LoopHandlers = Pick<Handlers, LoopMethods>;

function full(s: ProjectStore): FullProjectStore {
  const x = s as Partial<FullProjectStore>;
  if (typeof x.listModelVersions !== 'function' || typeof x.listPredictions !== 'function') {
    throw conflict('this project store cannot hold models (open a studio project folder)');
  }
  return s as FullProjectStore;
}

const cfgNum = (c: unknown, k: string): number | null => {
  const v = (c as Record<string, unknown> | null)?.[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};
const cfgStr = (c: unknown, k: string): string | null => {
  const v = (c as Record<string, unknown> | null)?.[k];
  return typeof v === 'string' ? v : null;
};

/** An export takes seconds to minutes; one still running after this is stopped. */
export const EXPORT_LIMIT_MS = 60 * 60 * 1000;

export interface LoopHost {
  need(): ProjectStore;
  emit: Emit;
  jobs: JobRunner;
  /** applies a changeset as any edit (announces project.changed, feeds the incremental updater) */
  apply(cs: Changeset): { revision: number; inverse: Changeset };
}

export class LoopService {
  readonly train: TrainService;
  private updater: { store: FullProjectStore; task: string; u: IncrementalUpdater; off: () => void } | null = null;
  /** images the last predict job covered per model version (an image with no detections has no rows) */
  private predicted = new Map<number, Set<number>>();
  /** aborted on close: work the service starts by itself (the evaluation after a fine-tune) must not outlive it */
  private background = new AbortController();

  constructor(private readonly host: LoopHost) {
    this.train = new TrainService(host.jobs, host.emit, (v, jobId) => this.afterTraining(v, jobId));
  }

  private store(): FullProjectStore {
    return full(this.host.need());
  }

  /** The open project's folder, if any (train.status works without a project). */
  private openDir(): string | undefined {
    try {
      return this.host.need().dir;
    } catch {
      return undefined;
    }
  }

  /** The version predictions and exports use: the newest active one, else the newest. */
  activeVersion(s: FullProjectStore): ModelVersion | null {
    const all = s.listModelVersions();
    const act = all.filter((v) => v.active);
    return (act.length ? act : all).at(-1) ?? null;
  }

  private classNames(s: FullProjectStore, v: ModelVersion): string[] {
    const spec = (v.config as { spec?: { classes?: string[] } } | null)?.spec;
    return spec?.classes ?? s.listClasses().map((c) => c.name);
  }

  info(s: FullProjectStore, v: ModelVersion): ModelInfo {
    return {
      id: v.id, name: v.name, task: v.task, active: v.active, parentId: v.parentId, datasetRevision: v.datasetRevision, createdAt: v.createdAt,
      trainableParams: cfgNum(v.config, 'trainableParams'), seconds: versionSeconds(v), backend: cfgStr(v.config, 'backend'),
      backbone: cfgStr(v.config, 'backbone'), origin: versionOrigin(v),
      eval: evalSummary(v.metrics, this.classNames(s, v)), metrics: v.metrics,
    };
  }

  private version(s: FullProjectStore, id: number): ModelVersion {
    const v = s.getModelVersion(id);
    if (!v) throw notFound(`model version ${id} does not exist in this project`);
    return v;
  }

  /** After a full fine-tune: the confusion on val (from predictions), `train.eval`, incremental on. */
  private async afterTraining(versionId: number | null, jobId: string): Promise<void> {
    if (versionId === null) return;
    const { signal } = this.background;
    try {
      const s = this.store();
      await this.predictImages(s, this.version(s, versionId), 'val', 0.05, { signal });
      // the project closed (or the studio stops) meanwhile: its predict worker was cancelled, nothing to report
      if (signal.aborted) return;
      const v = this.version(s, versionId);
      const ev = this.info(s, v).eval;
      if (ev) {
        this.train.setEval(ev);
        this.host.emit('train.eval', { jobId, modelVersion: versionId, eval: ev });
      }
    } catch (err) {
      this.host.emit('train.eval', { jobId, modelVersion: versionId, eval: { boxAP: null, boxAP50: null, maskAP: null, maskAP50: null, mIoU: null, perClass: [], confusion: null, images: 0 } });
      this.host.emit('job.progress', { jobId, kind: 'train', fraction: 1, message: `evaluation details failed: ${(err as Error).message}` });
    }
    this.resetUpdater();
    // warm the incremental updater now (new model in memory, feature cache checked — a fast fine-tune has
    // filled it —, the baseline val score computed), so the first label after the fine-tune updates at once
    try {
      const u = this.ensureUpdater(this.store());
      if (u) await u.prepareCache();
    } catch {
      // a failed warm-up only means the first update does this work itself
    }
  }

  // ---- predict ----

  /** Runs `v` on a split's images in the training worker (the server keeps answering), stores the predictions;
   *  for val also the detection confusion into metrics. */
  private async predictImages(s: FullProjectStore, v: ModelVersion, split: 'unlabeled' | 'val' | 'all', score: number, ctl: { signal?: AbortSignal; progress?: (f: number, m?: string) => void } = {}): Promise<number> {
    const weights = v.files.find((f) => f.endsWith('.safetensors'));
    if (!weights) throw new Error(`model version ${v.id} has no weights file`);
    const job = predictInWorker({ project: s.dir, weights: join(s.dir, weights), split, scoreThreshold: score }, { onProgress: (m) => ctl.progress?.(m.fraction, m.message) });
    const onAbort = () => job.cancel();
    ctl.signal?.addEventListener('abort', onAbort);
    let r: Awaited<typeof job.done>;
    try {
      r = await job.done;
    } finally {
      ctl.signal?.removeEventListener('abort', onAbort);
    }
    let current: ProjectStore | null = null;
    try {
      current = this.host.need();
    } catch {
      /* no project open */
    }
    if (current !== s) return 0; // the project was closed meanwhile: its store is gone
    const seen = this.predicted.get(v.id) ?? new Set<number>();
    this.predicted.set(v.id, seen);
    const byImage = new Map<number, NewPrediction[]>();
    for (const { imageId, preds } of r.result?.images ?? []) {
      s.putPredictions(imageId, v.id, preds);
      byImage.set(imageId, preds);
      seen.add(imageId);
    }
    if (split === 'val' && r.status === 'ok' && byImage.size > 0) {
      const classId = new Map(s.listClasses().map((c) => [c.name, c.id]));
      const names = this.classNames(s, v);
      const ids = names.map((n) => classId.get(n) ?? -1);
      const images: ValImage[] = [...byImage.entries()].map(([id, preds]) => ({ truth: s.annotationsOf(id), preds }));
      const cur = this.version(s, v.id);
      s.updateModelVersion(v.id, { metrics: { ...cur.metrics, val: { confusion: confusion(images, ids), images: images.length } } });
    }
    return byImage.size;
  }

  // ---- incremental ----

  private resetUpdater(): void {
    this.updater?.off();
    this.updater?.u.dispose();
    this.updater = null;
  }

  private ensureUpdater(s: FullProjectStore): IncrementalUpdater | null {
    const v = this.activeVersion(s);
    if (!v) return null;
    if (this.updater && this.updater.store === s && this.updater.task === v.task) return this.updater.u;
    this.resetUpdater();
    const u = new IncrementalUpdater({ store: s, task: v.task });
    const off = u.on((e) => this.relayIncremental(e));
    this.updater = { store: s, task: v.task, u, off };
    return u;
  }

  private relayIncremental(e: UpdaterEvent): void {
    const emit = (p: Parameters<Emit>[1] & object) => this.host.emit('incremental.update', p as never);
    switch (e.type) {
      case 'scheduled':
        return emit({ state: 'scheduled', message: `model update scheduled (${e.imageIds.length} changed image${e.imageIds.length === 1 ? '' : 's'})` });
      case 'started':
        return emit({ state: 'started', mode: e.mode, message: `updating the model (${e.mode} mode)…` });
      case 'done': {
        const secs = Math.round(e.wallMs / 100) / 10;
        const message = e.promoted ? `model updated (${e.mode} mode, ${secs} s)` : `candidate kept: ${e.reason}`;
        return emit({ state: 'done', mode: e.mode, promoted: e.promoted, versionId: e.versionId, seconds: secs, message });
      }
      case 'skipped':
        return emit({ state: 'skipped', message: `model update skipped: ${e.reason}` });
      case 'cancelled':
        return emit({ state: 'cancelled', message: `model update cancelled: ${e.reason}` });
      case 'error':
        return emit({ state: 'error', message: e.message });
    }
  }

  /** Every applied changeset: the images whose labels changed feed the debounced incremental update. */
  afterApply(cs: Changeset): void {
    if (this.train.running) return; // a full fine-tune is running; its result supersedes small updates
    let s: FullProjectStore;
    try {
      s = this.store();
    } catch {
      return;
    }
    const ids = new Set<number>();
    for (const a of cs.created) ids.add(a.imageId);
    for (const u of cs.updated) ids.add(u.after.imageId);
    for (const a of cs.deleted) ids.add(a.imageId);
    if (ids.size === 0) return;
    this.ensureUpdater(s)?.notifyChanged([...ids]);
  }

  /** Waits for a scheduled/running incremental update (tests; project close). */
  async incrementalIdle(): Promise<void> {
    await this.updater?.u.idle();
  }

  close(): void {
    this.background.abort();
    this.background = new AbortController();
    this.resetUpdater();
    this.predicted.clear();
  }

  readonly handlers: LoopHandlers = {
    'train.plan': async ({ advanced }) => {
      const { planTraining } = await import('./train-service');
      return planTraining(this.store(), advanced);
    },
    'train.start': ({ advanced }) => {
      this.resetUpdater();
      return this.train.start(this.store(), advanced);
    },
    'train.cancel': () => {
      this.train.cancel(this.openDir());
      return { ok: true as const };
    },
    'train.pause': () => {
      this.train.pause();
      return { ok: true as const };
    },
    'train.resume': () => {
      this.resetUpdater();
      return this.train.resume(this.store());
    },
    'train.status': () => this.train.status(this.openDir()),

    'models.list': () => {
      const s = this.store();
      return { items: s.listModelVersions().map((v) => this.info(s, v)).reverse() };
    },
    'models.get': ({ id }) => {
      const s = this.store();
      return this.info(s, this.version(s, id));
    },
    'models.setActive': ({ id }) => {
      const s = this.store();
      this.version(s, id);
      s.setActiveModel(id);
      this.resetUpdater();
      return { ok: true as const };
    },
    'models.delete': ({ id }) => {
      const s = this.store();
      const v = this.version(s, id);
      if (v.active) throw conflict(`model version ${id} is active: set another version active before deleting it`);
      s.deleteModelVersion(id);
      for (const f of v.files) {
        const p = resolve(s.dir, f);
        if (p.startsWith(resolve(s.dir, 'models'))) rmSync(p, { force: true });
      }
      this.predicted.delete(id);
      return { ok: true as const };
    },
    'models.compare': ({ a, b }) => {
      const s = this.store();
      const A = this.info(s, this.version(s, a));
      const B = this.info(s, this.version(s, b));
      const keys: [string, (m: ModelInfo) => number | null][] = [
        ['box AP', (m) => m.eval?.boxAP ?? null], ['box AP50', (m) => m.eval?.boxAP50 ?? null], ['mask AP', (m) => m.eval?.maskAP ?? null],
        ['mask AP50', (m) => m.eval?.maskAP50 ?? null], ['mIoU', (m) => m.eval?.mIoU ?? null], ['dataset revision', (m) => m.datasetRevision],
        ['trainable params', (m) => m.trainableParams], ['train time (s)', (m) => m.seconds],
      ];
      return { a: A, b: B, rows: keys.map(([metric, f]) => ({ metric, a: f(A), b: f(B) })) };
    },

    'predict.run': ({ split, scoreThreshold }) => {
      const s = this.store();
      const v = this.activeVersion(s);
      if (!v) throw conflict('no trained model yet: press Fine-tune first');
      if (this.train.running) throw conflict('a fine-tune is running: predict when it has finished');
      const jobId = this.host.jobs.start('predict', async ({ signal, progress }) => {
        const n = await this.predictImages(s, v, split ?? 'unlabeled', scoreThreshold ?? 0.05, { signal, progress });
        progress(1);
        this.host.emit('project.changed', { revision: s.revision() });
        return { added: n, message: `predicted ${n} image${n === 1 ? '' : 's'} with model version ${v.id}` };
      });
      return { jobId };
    },
    'predictions.list': ({ imageId }) => {
      const s = this.store();
      const v = this.activeVersion(s);
      if (!v) return { items: [] };
      return { items: s.listPredictions(imageId, v.id).map(({ id, imageId: im, modelVersion, classId, geometry, score }) => ({ id, imageId: im, modelVersion, classId, geometry, score })) };
    },
    'predictions.accept': ({ ids }) => {
      const s = this.store();
      const found = this.findPredictions(s, ids);
      const now = Date.now();
      const created: Annotation[] = found.map((p) => ({
        id: randomUUID(), imageId: p.imageId, classId: p.classId, geometry: p.geometry, source: 'human',
        score: null, modelVersion: p.modelVersion, createdAt: now, updatedAt: now,
      }));
      const res = this.host.apply({ created, updated: [], deleted: [], label: `accept ${created.length} suggestion${created.length === 1 ? '' : 's'}` });
      this.dropPredictions(s, found);
      return { ...res, created };
    },
    'predictions.reject': ({ ids }) => {
      const s = this.store();
      const found = this.findPredictions(s, ids);
      this.dropPredictions(s, found);
      return { removed: found.length };
    },
    'al.queue': ({ limit }) => {
      const s = this.store();
      const v = this.activeVersion(s);
      if (!v) return { items: s.imageIds({ status: 'unlabeled' }).slice(0, limit).map((imageId) => ({ imageId, score: 0 })), modelVersion: null };
      const ranked = labelNextQueue(s, v.id, { limit, predictedIds: this.predicted.get(v.id) });
      return { items: ranked.map((r) => ({ imageId: r.imageId, score: r.score ?? 0 })), modelVersion: v.id };
    },

    'export.run': ({ format, out, version }) => {
      const s = this.store();
      const versions = s.listModelVersions();
      if (versions.length === 0) throw conflict('there is no trained model to export: press Fine-tune first');
      if (version !== undefined) this.version(s, version);
      const target = resolve(out);
      // a target the worker could never write (/proc, a file as folder, a symlink loop, read-only) is a 400 now,
      // not a job that fails (or, before, looped forever) later
      ensureDir(dirname(target), { what: 'export folder', field: 'out' });
      const versionId = version ?? this.activeVersion(s)?.id;
      const picked = versionId !== undefined ? s.getModelVersion(versionId) : null;
      const refusal = format === 'adapter' && picked ? adapterRefusal(picked) : null;
      if (refusal) throw badRequest(refusal, 'format');
      // tfjs/ONNX export is seconds of tensor work: the training worker does it, the server keeps answering
      const jobId = this.host.jobs.start('export', async ({ signal, progress }) => {
        const job = exportInWorker({ project: s.dir, format, out: target, ...(versionId !== undefined ? { version: versionId } : {}) }, { onProgress: (m) => progress(m.fraction, m.message) });
        const r = await untilDone(job, signal);
        if (!('result' in r)) return { status: 'cancelled' as const, message: r.cancelled ?? 'export cancelled' };
        progress(1);
        return { message: `exported model version ${r.result.version} as ${format} to ${r.result.path} (${(r.result.bytes / 1e6).toFixed(2)} MB)` };
      }, { limitMs: EXPORT_LIMIT_MS });
      return { jobId };
    },

    'export.training': ({ out, version }) => {
      const s = this.store();
      if (s.listModelVersions().length === 0) throw conflict('there is no model version to start from: press Fine-tune first (or use `hst-studio export-training --backbone ID`)');
      if (version !== undefined) this.version(s, version);
      const target = resolve(out);
      // same rule as export.run: a folder that can never be written is a 400 now, not a failing job later
      ensureDir(dirname(target), { what: 'export folder', field: 'out' });
      const jobId = this.host.jobs.start('export', async ({ signal, progress }) => {
        const job = exportTrainingInWorker({ project: s.dir, out: target, ...(version !== undefined ? { version } : {}) }, { onProgress: (m) => progress(m.fraction, m.message) });
        const r = await untilDone(job, signal);
        if (!('result' in r)) return { status: 'cancelled' as const, message: r.cancelled ?? 'export cancelled' };
        progress(1);
        return { message: `training bundle written to ${r.result.out}; from that folder run: ${r.result.command}` };
      });
      return { jobId };
    },
    'models.import': ({ path }) => {
      const s = this.store();
      if (this.train.running) throw conflict('a fine-tune is running: import when it has finished');
      const file = checkSource(resolve(path), { what: 'model file', field: 'path', kind: 'file' });
      const jobId = this.host.jobs.start('import', async ({ signal, progress }) => {
        const job = importModelInWorker({ project: s.dir, file }, { onProgress: (m) => progress(m.fraction, m.message) });
        const r = await untilDone(job, signal);
        if (!('result' in r)) return { status: 'cancelled' as const, message: r.cancelled ?? 'import cancelled' };
        progress(1);
        this.host.emit('project.changed', { revision: s.revision() });
        return { message: r.result.summary };
      });
      return { jobId };
    },

    'incremental.settings': ({ set }) => {
      const s = this.store();
      const current = s.settings()[INCREMENTAL_SETTING];
      if (set) {
        const merged = { ...(current && typeof current === 'object' ? current : {}), ...set };
        try {
          resolveIncrementalSettings(merged);
        } catch (err) {
          throw badRequest((err as Error).message);
        }
        s.setSettings({ [INCREMENTAL_SETTING]: merged });
      }
      return resolveIncrementalSettings(s.settings()[INCREMENTAL_SETTING]);
    },
  };

  private findPredictions(s: FullProjectStore, ids: number[]) {
    // predictions are stored per image: look them up through the images that have any
    const want = new Set(ids);
    const out: ReturnType<FullProjectStore['listPredictions']> = [];
    const v = this.activeVersion(s);
    const candidates = new Set<number>(this.predicted.get(v?.id ?? -1) ?? []);
    const scan = (imageIds: Iterable<number>) => {
      for (const imageId of imageIds) {
        if (out.length === want.size) return;
        for (const p of s.listPredictions(imageId)) if (want.has(p.id) && !out.some((q) => q.id === p.id)) out.push(p);
      }
    };
    scan(candidates);
    if (out.length !== want.size) scan(s.imageIds()); // e.g. predicted before a restart
    if (out.length !== want.size) {
      const missing = ids.filter((id) => !out.some((p) => p.id === id));
      throw notFound(`prediction${missing.length === 1 ? '' : 's'} ${missing.slice(0, 5).join(', ')} no longer exist${missing.length === 1 ? 's' : ''} (re-run predict)`);
    }
    return out;
  }

  private dropPredictions(s: FullProjectStore, gone: ReturnType<FullProjectStore['listPredictions']>): void {
    s.deletePredictions(gone.map((p) => p.id));
  }
}

