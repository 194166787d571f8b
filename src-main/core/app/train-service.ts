// Fine-tune from the studio: plan the run from the project (tasks from the labels, size/steps/lr from the
// dataset size and the backend), run it in the training worker thread (the server's event loop stays free),
// relay its progress as `train.progress` and its evaluation as `train.eval`. Pause stops after the current step
// with a checkpoint; the run's record on disk (train-record.ts) lets a paused run, or one the studio stopped
// in the middle of (crash, app restart, project closed), be resumed from its last checkpoint.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainOverrides, TrainPlan, TrainState, TrainStatus } from '../../contract/api';
import { dataDir as defaultDataDir } from '../compute/environment';
import type { FullProjectStore } from '../store/types';
import type { TrainJobConfig } from '../jobs/train-job';
import { recordCost } from '../training/cost-model';
import { PlanError, planDataset, writeHoldout } from '../training/plan-project';
import { inferTasks, trainingDataset } from '../training/train-project';
import type { TaskName } from '../task-model/task-model';
import { latestCheckpoint, readCheckpointState } from '../training/trainer';
import { trainInWorker, type WorkerJob } from '../jobs/worker-client';
import { BackboneManager } from '../backbones/manager';
import { conflict, badRequest } from './errors';
import { CLOSING, type Emit, type JobRunner } from './jobs';
import { readTrainRecord, writeTrainRecord, type TrainRecord } from './train-record';

export { TRAIN_PRESET_ENV } from '../training/plan-project';

function dataDirOf(env: NodeJS.ProcessEnv): string {
  return env.HST_DATA_DIR ?? defaultDataDir();
}

/** The Fine-tune button's plan: the one planner (training/plan.ts) over the project's labelled images. */
export async function planTraining(store: FullProjectStore, adv: TrainOverrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<TrainPlan> {
  const manager = () => new BackboneManager(env.HST_DATA_DIR ?? defaultDataDir());
  const backbone = adv.backbone;
  if (backbone && backbone !== 'random') {
    // only installed ids: a path here would make the worker read any file the studio can (files come in through
    // `hst-studio backbone import`, which validates them)
    const installed = await manager().list().catch(() => []);
    if (!installed.some((b) => b.id === backbone)) {
      const ids = installed.map((b) => b.id);
      throw badRequest(`advanced.backbone: '${backbone}' is not an installed backbone; use ${ids.length ? `one of ${ids.join(', ')} or ` : ''}'random', or install it first`, 'advanced.backbone');
    }
  }
  const full = store.toDataset();
  let tasks: string[];
  try {
    tasks = inferTasks(full);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  // image tags as classes when the project has no shapes (tags-classification.ts)
  const ds = trainingDataset(full, null, tasks as TaskName[]).dataset;
  const labelled = new Set(ds.annotations.map((a) => a.imageKey));
  try {
    return await planDataset(ds, { overrides: adv, labelled, tasks, dataDir: dataDirOf(env), env });
  } catch (err) {
    if (err instanceof PlanError && err.kind === 'no-backbone') throw conflict(`${err.message}. In the studio: open Backbones to download or import one, or choose "random backbone (demo only)".`);
    if (err instanceof PlanError) throw badRequest(err.message);
    throw err;
  }
}

type History = TrainStatus['history'];
const CORE_KEYS = new Set(['step', 'totalSteps', 'loss', 'lr', 'gradNorm', 'imagesPerSec', 'etaSec', 'gpuBytes', 'trainableParams', 'images', 'checkpointStep', 'boxAP50', 'maskAP50', 'mIoU']);

/** The live run: its worker job and the project it belongs to. */
interface Live {
  dir: string;
  job: WorkerJob | null;
  jobId: string;
  plan: TrainPlan;
  config: TrainJobConfig;
  history: History;
  checkpointStep: number | null;
  /** what the user asked for while it runs */
  stop: 'pause' | 'cancel' | null;
  /** this run's status (the service shows it while its project is the open one) */
  status: TrainStatus;
}

/** The training job the Fine-tune button runs for a plan (every setting from the plan, tiles included). */
export function trainJobConfig(dir: string, plan: TrainPlan): TrainJobConfig {
  return {
    project: dir,
    tasks: plan.tasks as TrainJobConfig['tasks'],
    size: plan.size,
    steps: plan.steps,
    batchSize: plan.batchSize,
    lr: plan.lr,
    backbone: plan.backbone,
    mode: plan.mode,
    evalEvery: plan.evalEvery,
    tiles: plan.tiles ? { size: plan.tiles.size, overlap: plan.tiles.overlap } : null,
    ...(plan.fpnWidth ? { heads: { fpnWidth: plan.fpnWidth } } : {}),
    ...(plan.side ? { side: plan.side } : {}),
    // ~10 checkpoints a run (5 for the seconds-long tiny preset), so pause/crash lose little
    checkpointEvery: plan.preset === 'tiny' ? Math.max(2, Math.ceil(plan.steps / 5)) : Math.max(10, Math.ceil(plan.steps / 10)),
    ...(plan.preset === 'tiny' && plan.randomBackbone ? { randomVit: { depth: 4 } } : {}),
    ...(process.env.HST_DATA_DIR ? { dataDir: process.env.HST_DATA_DIR } : {}),
  };
}

export class TrainService {
  private live: Live | null = null;
  private state: TrainStatus = TrainService.idle();
  /** the project `state` describes */
  private dir: string | null = null;

  constructor(private readonly jobs: JobRunner, private readonly emit: Emit, private readonly onFinished: (modelVersion: number | null, jobId: string) => void) {}

  static idle(): TrainStatus {
    return { state: 'idle', jobId: null, plan: null, step: 0, totalSteps: 0, modelVersion: null, history: [], eval: null, checkpointStep: null, resumable: false };
  }

  /** The fine-tune of `projectDir`: the live run, else what its record on disk says (a 'running' record with no
   *  run behind it was interrupted). */
  status(projectDir?: string): TrainStatus {
    if (projectDir && this.live?.dir === projectDir) {
      this.dir = projectDir;
      this.state = this.live.status;
    } else if (projectDir && projectDir !== this.dir) this.load(projectDir);
    return this.state;
  }

  private load(dir: string): void {
    this.dir = dir;
    let rec: TrainRecord | null;
    try {
      rec = readTrainRecord(dir);
    } catch (err) {
      this.state = { ...TrainService.idle(), message: (err as Error).message };
      return;
    }
    if (!rec || rec.state === 'done' || rec.state === 'cancelled' || rec.state === 'error') {
      this.state = TrainService.idle();
      return;
    }
    const interrupted = rec.state === 'running';
    const at = rec.checkpointStep ?? 0;
    this.state = {
      state: interrupted ? 'interrupted' : 'paused', jobId: rec.jobId, plan: rec.plan, step: at, totalSteps: rec.totalSteps, modelVersion: null,
      history: rec.history.filter((h) => h.step <= at), eval: null, checkpointStep: rec.checkpointStep, resumable: true,
      message: interrupted
        ? `the studio stopped while this fine-tune ran; resume continues from ${rec.checkpointStep ? `its checkpoint at step ${rec.checkpointStep}` : 'step 0 (no checkpoint was written yet)'}`
        : `paused at step ${at}/${rec.totalSteps}`,
    };
  }

  setEval(ev: TrainStatus['eval']): void {
    this.state = { ...this.state, eval: ev };
  }

  async start(store: FullProjectStore, adv: TrainOverrides = {}): Promise<{ jobId: string; plan: TrainPlan }> {
    if (this.live) throw conflict(`a fine-tune is already running${this.live.dir === store.dir ? '' : ' in another project'}: cancel it or wait for it to finish`);
    let plan = await planTraining(store, adv);
    // no val split: the held-out images the plan drew become the project's val split (visible, changeable)
    if (writeHoldout(store, plan) > 0) plan = { ...(await planTraining(store, { ...adv, valFraction: undefined, valSeed: undefined })), val: plan.val };
    const config = trainJobConfig(store.dir, plan);
    // a fresh run must never be confused with the checkpoints of the one before (the worker clears them too, but
    // only once the model is built: a pause or crash before that would leave the old ones looking like this run's)
    rmSync(join(store.dir, 'models', 'checkpoints'), { recursive: true, force: true });
    const jobId = this.launch(store.dir, plan, config, [], null, false);
    return { jobId, plan };
  }

  /** Continues the project's paused or interrupted run from its newest checkpoint (from step 0 if it has none). */
  async resume(store: FullProjectStore): Promise<{ jobId: string; plan: TrainPlan; fromStep: number }> {
    if (this.live) throw conflict(this.live.dir === store.dir && this.live.stop === 'pause' ? 'the fine-tune is still pausing: resume when it has paused' : 'a fine-tune is already running: cancel it or wait for it to finish');
    let rec: TrainRecord | null;
    try {
      rec = readTrainRecord(store.dir);
    } catch (err) {
      throw conflict((err as Error).message);
    }
    if (!rec || (rec.state !== 'paused' && rec.state !== 'running')) throw conflict('there is no paused or interrupted fine-tune to resume: press Fine-tune to start one');
    // the newest checkpoint of THIS run (a fresh start clears the folder; a crash may have left one newer than
    // the record knows of, which is where the run really got to)
    const ckpt = rec.checkpointStep !== null ? await latestCheckpoint(join(store.dir, 'models', 'checkpoints')) : null;
    const from = ckpt ? (await readCheckpointState(ckpt)).step : 0;
    const config = { ...(rec.config as TrainJobConfig), resume: ckpt !== null };
    const history = ckpt ? rec.history.filter((h) => h.step <= from) : [];
    const jobId = this.launch(store.dir, rec.plan, config, history, ckpt ? from : null, true);
    return { jobId, plan: rec.plan, fromStep: from };
  }

  /** Runs the config in the training worker as a JobRunner job; keeps the record on disk up to date. */
  private launch(dir: string, plan: TrainPlan, config: TrainJobConfig, history: History, checkpointStep: number | null, resumed: boolean): string {
    const { resume: _r, ...persisted } = config;
    const live: Live = { dir, job: null, jobId: '', plan, config, history: [...history], checkpointStep, stop: null, status: TrainService.idle() };
    const set = (patch: Partial<TrainStatus>) => {
      live.status = { ...live.status, ...patch };
      if (this.dir === dir) this.state = live.status;
    };
    const record = (state: TrainRecord['state'], step: number, message?: string) => {
      try {
        writeTrainRecord(dir, { state, jobId: live.jobId, plan, config: persisted, step, totalSteps: plan.steps, checkpointStep: live.checkpointStep, history: live.history, message });
      } catch {
        // a read-only or full disk must not kill the run; resume after a crash is then unavailable
      }
    };
    const announce = (state: TrainState, step: number, message?: string) => {
      const resumable = state === 'paused' || state === 'interrupted' || (state === 'error' && live.checkpointStep !== null);
      set({ state, step, message, checkpointStep: live.checkpointStep, resumable });
      this.emit('train.state', { jobId: live.jobId, state, step, totalSteps: plan.steps, checkpointStep: live.checkpointStep, message });
    };
    let step = checkpointStep ?? 0;
    let lastFraction = 0;
    const speeds: number[] = [];
    const jobId = this.jobs.start('train', async ({ signal, progress }) => {
      const job = trainInWorker(config, {
        onProgress: (m) => {
          const x = m.metrics;
          if (x && typeof x.step === 'number' && typeof x.loss === 'number') {
            const parts: Record<string, number> = {};
            for (const [k, v] of Object.entries(x)) if (!CORE_KEYS.has(k)) parts[k] = v;
            step = x.step;
            if (typeof x.imagesPerSec === 'number' && x.imagesPerSec > 0) speeds.push(x.imagesPerSec);
            live.history.push({ step: x.step, loss: x.loss, lr: x.lr ?? 0 });
            set({ step: x.step, totalSteps: x.totalSteps ?? plan.steps, history: [...live.history], message: m.message });
            this.emit('train.progress', {
              jobId: live.jobId, step: x.step, totalSteps: x.totalSteps ?? plan.steps, loss: x.loss, lr: x.lr ?? 0, parts,
              imagesPerSec: x.imagesPerSec ?? 0, etaSec: x.etaSec ?? 0, message: m.message,
              ...(typeof x.gpuBytes === 'number' ? { gpuBytes: x.gpuBytes } : {}),
            });
          } else {
            if (x && typeof x.checkpointStep === 'number') {
              live.checkpointStep = x.checkpointStep;
              // the history beyond the checkpoint is redone by a resume: keep the record to what it can reach
              record('running', x.checkpointStep);
              set({ checkpointStep: x.checkpointStep });
            }
            if (m.message) set({ message: m.message });
          }
          // an evaluation during the run reports fraction 1: keep the bar where the steps put it
          const isEval = !!x && ('boxAP50' in x || 'maskAP50' in x || 'mIoU' in x);
          if (!isEval) lastFraction = m.fraction;
          progress(lastFraction, m.message);
        },
      });
      live.job = job;
      // a stop asked for before the worker existed
      if (live.stop === 'pause') job.pause();
      else if (live.stop === 'cancel') job.cancel();
      // the project closing (or the studio shutting down) pauses: the run stays resumable from where it was
      const onAbort = () => (signal.reason === CLOSING ? job.pause() : job.cancel());
      signal.addEventListener('abort', onAbort);
      try {
        const r = await job.done;
        if (r.status === 'cancelled' && r.result?.status === 'paused') {
          live.checkpointStep = r.result.steps;
          const msg = `paused at step ${r.result.steps}/${plan.steps}: resume continues from here`;
          record('paused', r.result.steps, msg);
          announce('paused', r.result.steps, msg);
          return { status: 'cancelled' as const, message: `paused at step ${r.result.steps}` };
        }
        if (r.status === 'cancelled') {
          record('cancelled', step, r.message ?? 'cancelled');
          announce('cancelled', step, r.message ?? 'cancelled');
          return { status: 'cancelled' as const, message: r.message };
        }
        const v = r.result?.modelVersion ?? null;
        // what this machine measured becomes the next plans' time estimate (cost-model.ts)
        if (plan.preset !== 'tiny' && plan.backend && speeds.length >= 5) {
          const sorted = speeds.slice(Math.floor(speeds.length / 5)).sort((a, b) => a - b);
          try {
            recordCost(dataDirOf(process.env), { backend: plan.backend, mode: plan.mode ?? 'full', side: plan.side ?? 'small' }, plan.size, sorted[Math.floor(sorted.length / 2)]);
          } catch {
            // an unwritable data folder only costs the estimate its measurement
          }
        }
        record('done', plan.steps, `model version ${v} saved`);
        set({ modelVersion: v });
        announce('done', r.result?.steps ?? plan.steps, `model version ${v} saved`);
        this.onFinished(v, live.jobId);
        return { message: `model version ${v} trained in ${Math.round(r.result?.seconds ?? 0)} s` };
      } catch (err) {
        const msg = (err as Error).message;
        // the checkpoint is still there: a failed run can be resumed like an interrupted one
        record(live.checkpointStep !== null ? 'running' : 'error', step, msg);
        announce('error', step, msg);
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (this.live === live) this.live = null;
      }
    });
    live.jobId = jobId;
    this.live = live;
    this.dir = dir;
    record('running', checkpointStep ?? 0);
    const message = resumed ? `resuming from ${checkpointStep ? `step ${checkpointStep}` : 'step 0'}` : 'starting the training worker';
    live.status = {
      state: 'running', jobId, plan, step: checkpointStep ?? 0, totalSteps: plan.steps, modelVersion: null, history: [...live.history], eval: null,
      checkpointStep, resumable: false, message,
    };
    this.state = live.status;
    this.emit('train.state', { jobId, state: 'running', step: checkpointStep ?? 0, totalSteps: plan.steps, checkpointStep, message });
    return jobId;
  }

  /** Stops the running fine-tune after its current step, with a checkpoint. */
  pause(): void {
    const live = this.live;
    if (!live || live.stop) throw conflict(live?.stop === 'pause' ? 'the fine-tune is already pausing' : 'no fine-tune is running');
    live.stop = 'pause';
    live.job?.pause();
    live.status = { ...live.status, message: 'pausing after the current step…' };
    if (this.dir === live.dir) this.state = live.status;
  }

  /** Cancels the running fine-tune, or discards the project's paused/interrupted one. */
  cancel(projectDir?: string): void {
    const live = this.live;
    if (live && (!projectDir || live.dir === projectDir)) {
      live.stop = 'cancel';
      if (live.job) live.job.cancel();
      else this.jobs.cancel(live.jobId);
      return;
    }
    const st = projectDir ? this.status(projectDir) : this.state;
    if (!projectDir || !st.resumable) throw conflict('no fine-tune is running');
    const rec = readTrainRecord(projectDir);
    if (rec) writeTrainRecord(projectDir, { ...rec, state: 'cancelled', message: 'discarded' });
    this.state = { ...st, state: 'cancelled', resumable: false, message: 'the paused fine-tune was discarded' };
    this.emit('train.state', { jobId: st.jobId, state: 'cancelled', step: st.step, totalSteps: st.totalSteps, checkpointStep: st.checkpointStep ?? null, message: 'discarded' });
  }

  get running(): boolean {
    return this.live !== null;
  }
}
