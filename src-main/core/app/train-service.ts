// Fine-tune from the studio: plan the run from the project (tasks from the labels, size/steps/lr from the
// dataset size and the backend), run it in the training worker thread (the server's event loop stays free),
// relay its progress as `train.progress` and its evaluation as `train.eval`.
import type { TrainOverrides, TrainPlan, TrainStatus } from '../../contract/api';
import { getComputeInfo } from '../compute/engine';
import { dataDir as defaultDataDir } from '../compute/environment';
import { BackboneManager } from '../backbones/manager';
import type { FullProjectStore } from '../store/types';
import type { TrainJobConfig } from '../training/train-job';
import { inferTasks, noBackboneMessage } from '../training/train-project';
import { trainInWorker, type WorkerJob } from '../training/worker-client';
import { conflict, badRequest } from './errors';
import type { Emit } from './jobs';
import type { JobRunner } from './jobs';

/** `HST_TRAIN_PRESET=tiny` makes every Fine-tune a seconds-long run (64 px, 5 steps, shallow ViT): e2e tests, demos. */
export const TRAIN_PRESET_ENV = 'HST_TRAIN_PRESET';

const TINY = { size: 64, steps: 5, batchSize: 2, lr: 2e-3 };

export async function planTraining(store: FullProjectStore, adv: TrainOverrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<TrainPlan> {
  const ds = store.toDataset();
  let tasks: string[];
  try {
    tasks = inferTasks(ds);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  const labelled = new Set(ds.annotations.map((a) => a.imageKey));
  const trainImages = ds.images.filter((im) => labelled.has(im.key) && im.split === 'train').length;
  const valImages = ds.images.filter((im) => labelled.has(im.key) && im.split === 'val').length;
  if (trainImages === 0) throw badRequest('no labelled image is in the train split: label more images (or move some to train)');
  const preset = adv.preset ?? (env[TRAIN_PRESET_ENV] === 'tiny' ? 'tiny' : 'auto');
  let backbone = adv.backbone;
  if (!backbone) {
    const installed = await new BackboneManager(env.HST_DATA_DIR ?? defaultDataDir()).list().catch(() => []);
    if (installed.length === 0) throw conflict(`${noBackboneMessage()}. In the studio: choose "random backbone (demo only)" under Advanced.`);
    backbone = installed[0].id;
  }
  let base: { size: number; steps: number; batchSize: number; lr: number };
  if (preset === 'tiny') base = TINY;
  else {
    // A fast native backend affords a larger input; on CPU/wasm 160 px keeps a step around a second.
    const fast = ['tensorflow', 'webgpu', 'webgl'].includes(getComputeInfo()?.backend ?? '');
    const batchSize = trainImages >= 8 ? 4 : 2;
    const epochs = trainImages < 50 ? 30 : trainImages < 500 ? 15 : 6;
    const steps = Math.min(3000, Math.max(50, Math.ceil((epochs * trainImages) / batchSize)));
    base = { size: fast ? 224 : 160, steps, batchSize, lr: 2e-3 };
  }
  return {
    tasks,
    size: adv.size ?? base.size,
    steps: adv.steps ?? base.steps,
    batchSize: adv.batchSize ?? base.batchSize,
    lr: adv.lr ?? base.lr,
    backbone,
    randomBackbone: backbone === 'random',
    trainImages,
    valImages,
    preset,
  };
}

type History = TrainStatus['history'];
const CORE_KEYS = new Set(['step', 'totalSteps', 'loss', 'lr', 'gradNorm', 'imagesPerSec', 'etaSec', 'trainableParams', 'images', 'checkpointStep', 'boxAP50', 'maskAP50', 'mIoU']);

export class TrainService {
  private job: WorkerJob | null = null;
  private state: TrainStatus = TrainService.idle();

  constructor(private readonly jobs: JobRunner, private readonly emit: Emit, private readonly onFinished: (modelVersion: number | null, jobId: string) => void) {}

  static idle(): TrainStatus {
    return { state: 'idle', jobId: null, plan: null, step: 0, totalSteps: 0, modelVersion: null, history: [], eval: null };
  }

  status(): TrainStatus {
    return this.state;
  }

  setEval(ev: TrainStatus['eval']): void {
    this.state = { ...this.state, eval: ev };
  }

  async start(store: FullProjectStore, adv: TrainOverrides = {}): Promise<{ jobId: string; plan: TrainPlan }> {
    if (this.job) throw conflict('a fine-tune is already running: cancel it or wait for it to finish');
    const plan = await planTraining(store, adv);
    const config: TrainJobConfig = {
      project: store.dir,
      tasks: plan.tasks as TrainJobConfig['tasks'],
      size: plan.size,
      steps: plan.steps,
      batchSize: plan.batchSize,
      lr: plan.lr,
      backbone: plan.backbone,
      checkpointEvery: Math.max(10, Math.ceil(plan.steps / 10)),
      ...(plan.preset === 'tiny' && plan.randomBackbone ? { randomVit: { depth: 4 } } : {}),
      ...(process.env.HST_DATA_DIR ? { dataDir: process.env.HST_DATA_DIR } : {}),
    };
    const history: History = [];
    let jobIdRef = '';
    const jobId = this.jobs.start('train', async ({ signal, progress }) => {
      const job = trainInWorker(config, {
        onProgress: (m) => {
          const x = m.metrics;
          if (x && typeof x.step === 'number' && typeof x.loss === 'number') {
            const parts: Record<string, number> = {};
            for (const [k, v] of Object.entries(x)) if (!CORE_KEYS.has(k)) parts[k] = v;
            history.push({ step: x.step, loss: x.loss, lr: x.lr ?? 0 });
            this.state = { ...this.state, step: x.step, totalSteps: x.totalSteps ?? plan.steps, history: [...history], message: m.message };
            this.emit('train.progress', {
              jobId: jobIdRef, step: x.step, totalSteps: x.totalSteps ?? plan.steps, loss: x.loss, lr: x.lr ?? 0, parts,
              imagesPerSec: x.imagesPerSec ?? 0, etaSec: x.etaSec ?? 0, message: m.message,
            });
          } else if (m.message) this.state = { ...this.state, message: m.message };
          progress(m.fraction, m.message);
        },
      });
      this.job = job;
      const onAbort = () => job.cancel();
      signal.addEventListener('abort', onAbort);
      try {
        const r = await job.done;
        if (r.status === 'cancelled') {
          this.state = { ...this.state, state: 'cancelled', message: r.message ?? 'cancelled' };
          return { status: 'cancelled' as const, message: r.message };
        }
        const v = r.result?.modelVersion ?? null;
        this.state = { ...this.state, state: 'done', modelVersion: v, message: `model version ${v} saved` };
        this.onFinished(v, jobIdRef);
        return { message: `model version ${v} trained in ${Math.round(r.result?.seconds ?? 0)} s` };
      } catch (err) {
        this.state = { ...this.state, state: 'error', message: (err as Error).message };
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
        this.job = null;
      }
    });
    jobIdRef = jobId;
    this.state = { state: 'running', jobId, plan, step: 0, totalSteps: plan.steps, modelVersion: null, history: [], eval: null, message: 'starting the training worker' };
    return { jobId, plan };
  }

  cancel(): void {
    if (!this.state.jobId || this.state.state !== 'running') throw conflict('no fine-tune is running');
    this.jobs.cancel(this.state.jobId);
  }

  get running(): boolean {
    return this.job !== null || this.state.state === 'running';
  }
}
