// The `train` job of the trainer worker protocol (src-main/core/jobs/protocol.ts): validates the job's
// config, runs trainProject and turns its events into protocol messages. Shared by the core training worker
// (worker-train.ts) and the Electron trainer worker.
import { z } from 'zod';
import { SIDE_PRESET_NAMES } from '../../contract/api';
import type { FromWorker } from './protocol';
import { initCompute } from '../compute/engine';
import { trainProject, type TrainJobEvent, type TrainProjectOptions } from '../training/train-project';

const task = z.enum(['detect', 'instance', 'semantic', 'classify']);
const stride = z.union([z.literal(4), z.literal(8), z.literal(16), z.literal(32)]);
export const TrainJobConfig = z
  .object({
    project: z.string().min(1),
    tasks: z.array(task).min(1).optional(),
    size: z.number().int().min(64).max(1024).optional(),
    steps: z.number().int().min(1).max(10_000_000).optional(),
    epochs: z.number().min(0.01).max(100_000).optional(),
    batchSize: z.number().int().min(1).max(256).optional(),
    lr: z.number().positive().max(1).optional(),
    backbone: z.string().min(1).optional(),
    resume: z.boolean().optional(),
    side: z.enum(SIDE_PRESET_NAMES).optional(),
    heads: z.object({ fpnWidth: z.number().int().positive(), towerDepth: z.number().int().min(1), detStrides: z.array(stride), semanticStrides: z.array(stride), maskStride: z.union([z.literal(4), z.literal(8)]), maskBranchDepth: z.number().int().min(1) }).partial().optional(),
    randomVit: z.record(z.string(), z.unknown()).optional(),
    seed: z.number().int().optional(),
    checkpointEvery: z.number().int().min(0).optional(),
    dataDir: z.string().optional(),
    backend: z.string().optional(),
    mode: z.enum(['fast', 'full']).optional(),
    evalEvery: z.number().int().min(0).optional(),
    emaDecay: z.number().min(0).lt(1).optional(),
    dataParallel: z.boolean().optional(),
    beta2: z.number().gt(0).lt(1).optional(),
    // the plan's tiles (photo pixels); null: whole photos
    tiles: z.object({ size: z.number().int().min(32), overlap: z.number().int().min(0) }).refine((t) => t.overlap < t.size, 'the overlap must be smaller than the tile').nullable().optional(),
  })
  .strict();
export type TrainJobConfig = z.infer<typeof TrainJobConfig>;

/** Progress message for one training event (null: nothing to report). */
export function eventToMessage(jobId: string, e: TrainJobEvent): FromWorker | null {
  switch (e.type) {
    case 'step':
      return {
        type: 'progress', jobId, fraction: Math.min(1, e.step / e.totalSteps),
        message: `step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}`,
        metrics: { step: e.step, totalSteps: e.totalSteps, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm, imagesPerSec: e.imagesPerSec, etaSec: e.etaSec, ...(e.gpuBytes != null ? { gpuBytes: e.gpuBytes } : {}), ...e.parts },
      };
    case 'start':
      return { type: 'progress', jobId, fraction: e.step / e.totalSteps, message: `${e.resumed ? 'resumed' : 'started'} at step ${e.step}/${e.totalSteps}`, metrics: { trainableParams: e.trainableParams, images: e.images } };
    case 'checkpoint':
      return { type: 'progress', jobId, fraction: 0, message: `checkpoint at step ${e.step}: ${e.dir}`.slice(0, 500), metrics: { checkpointStep: e.step } };
    case 'warning':
    case 'phase':
      return { type: 'progress', jobId, fraction: 0, message: e.message.slice(0, 500) };
    case 'eval': {
      const m: Record<string, number> = {};
      if (e.metrics.bbox) m.boxAP50 = e.metrics.bbox.AP50;
      if (e.metrics.segm) m.maskAP50 = e.metrics.segm.AP50;
      if (e.metrics.semantic?.mIoU != null) m.mIoU = e.metrics.semantic.mIoU;
      return { type: 'progress', jobId, fraction: 1, message: 'evaluated on the val split', metrics: m };
    }
  }
}

/** Runs one train job; resolves with the 'done' message to post. */
export async function runTrainJob(jobId: string, config: unknown, post: (m: FromWorker) => void, signal: AbortSignal): Promise<FromWorker> {
  const parsed = TrainJobConfig.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { type: 'done', jobId, status: 'error', message: `train config: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  const { backend, ...opts } = parsed.data;
  await initCompute(backend ? { backend } : {});
  let lastFraction = 0;
  const res = await trainProject(opts as TrainProjectOptions, {
    signal,
    onEvent: (e) => {
      const m = eventToMessage(jobId, e);
      if (!m) return;
      // keep the fraction monotone for the UI's progress bar
      if (m.type === 'progress') {
        if (e.type === 'step' || e.type === 'start' || e.type === 'eval') lastFraction = m.fraction;
        else m.fraction = lastFraction;
      }
      post(m);
    },
  });
  if (res.status === 'paused') return { type: 'done', jobId, status: 'cancelled', message: `paused at step ${res.steps}`, result: res };
  if (res.status === 'cancelled') return { type: 'done', jobId, status: 'cancelled', message: `cancelled at step ${res.steps}` };
  return { type: 'done', jobId, status: 'ok', result: res };
}
