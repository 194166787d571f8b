// The fine-tune's record on disk (`models/train-job.json` in the project): what was asked (plan + worker
// config), how far it got (last checkpoint, loss history up to it) and how it ended. It outlives the process,
// so a project reopened after a crash or an app restart can list the unfinished run and resume it.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TrainPlan } from '../../contract/api';

export const TRAIN_RECORD_FILE = join('models', 'train-job.json');

export const TrainRecord = z.object({
  version: z.literal(1),
  /** 'running' on disk while no process runs it = interrupted */
  state: z.enum(['running', 'paused', 'done', 'cancelled', 'error']),
  jobId: z.string(),
  plan: TrainPlan,
  /** the training worker's job config (TrainJobConfig), without `resume` */
  config: z.record(z.string(), z.unknown()),
  step: z.number().int(),
  totalSteps: z.number().int(),
  checkpointStep: z.number().int().nullable(),
  history: z.array(z.object({ step: z.number().int(), loss: z.number(), lr: z.number() })),
  message: z.string().optional(),
  pid: z.number().int(),
  updatedAt: z.number(),
});
export type TrainRecord = z.infer<typeof TrainRecord>;

/** The project's fine-tune record; null when there is none. A damaged file is an Error naming it. */
export function readTrainRecord(projectDir: string): TrainRecord | null {
  const file = join(projectDir, TRAIN_RECORD_FILE);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); start a new fine-tune`);
  }
  const p = TrainRecord.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    throw new Error(`${file}: ${i?.path.join('.') || '(root)'}: ${i?.message}; start a new fine-tune`);
  }
  return p.data;
}

/** Writes the record atomically (a crash mid-write leaves the previous one). */
export function writeTrainRecord(projectDir: string, rec: Omit<TrainRecord, 'version' | 'pid' | 'updatedAt'>): void {
  const file = join(projectDir, TRAIN_RECORD_FILE);
  mkdirSync(join(projectDir, 'models'), { recursive: true });
  const full: TrainRecord = { version: 1, ...rec, pid: process.pid, updatedAt: Date.now() };
  writeFileSync(file + '.tmp', JSON.stringify(full));
  renameSync(file + '.tmp', file);
}
