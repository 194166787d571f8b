// Messages between the main process and the trainer worker thread. Training (tfjs, seconds to hours of
// CPU) must never run on the main process's event loop: that loop also serves IPC and the app:// protocol,
// so a busy loop there freezes the window. Both sides validate every message (a worker bug must not be
// able to push garbage into the renderer's job events).
import { z } from 'zod';

export const TRAINER_PROTOCOL_VERSION = 1;

export const ToWorker = z.discriminatedUnion('type', [
  /** Start a job. `kind` picks the job; `config` is the job's own (validated by the job) settings. */
  z.object({ type: z.literal('start'), jobId: z.string().min(1).max(64), kind: z.string().min(1).max(64), config: z.unknown() }),
  /** `pause`: stop after the current step and keep a checkpoint to resume from (jobs that cannot pause cancel). */
  z.object({ type: z.literal('cancel'), jobId: z.string().min(1).max(64), pause: z.boolean().optional() }),
  z.object({ type: z.literal('shutdown') }),
]);
export type ToWorker = z.infer<typeof ToWorker>;

export const FromWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), protocol: z.number().int(), kinds: z.array(z.string()) }),
  z.object({
    type: z.literal('progress'),
    jobId: z.string(),
    fraction: z.number().min(0).max(1),
    message: z.string().max(500).optional(),
    /** per-epoch numbers (loss, mAP…) for the training chart */
    metrics: z.record(z.string(), z.number()).optional(),
  }),
  z.object({ type: z.literal('done'), jobId: z.string(), status: z.enum(['ok', 'cancelled', 'error']), message: z.string().max(2000).optional(), result: z.unknown().optional() }),
]);
export type FromWorker = z.infer<typeof FromWorker>;

/** Settings of the `probe` job: a self-test that reports `steps` progress events `intervalMs` apart. */
export const ProbeConfig = z.object({ steps: z.number().int().min(1).max(1000), intervalMs: z.number().int().min(0).max(10_000).default(0) });
