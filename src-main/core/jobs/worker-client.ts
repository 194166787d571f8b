// Starts the training worker thread and runs one job (train, predict, export) on it: the caller gets progress callbacks and a promise,
// and its own event loop stays free. The worker is the built file dist/main/core/jobs/worker-train.js,
// found relative to the running module (bundled in dist/main/**, or the source tree under test).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FromWorker } from './protocol';
import type { ExportJobConfig, ExportJobResult } from './export-job';
import type { PredictJobConfig, PredictJobResult } from './predict-job';
import type { TrainJobConfig } from './train-job';
import type { ExportTrainingJobConfig, ExportTrainingJobResult, ImportModelJobConfig, ImportModelJobResult } from './torch-bundle-jobs';
import type { TrainProjectResult } from '../training/train-project';
import { findWorkerFile } from '../find-worker';

export function defaultTrainWorkerFile(from: string = dirname(fileURLToPath(import.meta.url))): string {
  return findWorkerFile('core/jobs/worker-train.js', from);
}

export interface WorkerJob<R = TrainProjectResult> {
  /** resolves with the job's result; rejects with the job's error message */
  done: Promise<{ status: 'ok' | 'cancelled'; result?: R; message?: string }>;
  cancel(): void;
  /** stop after the current step with a checkpoint; `done` then resolves 'cancelled' with result.status 'paused' */
  pause(): void;
}

type WorkerOpts = {
  onProgress?: (m: Extract<FromWorker, { type: 'progress' }>) => void;
  workerFile?: string;
  /** after a cancel, the worker is terminated if its job has not ended within this (default CANCEL_TERMINATE_MS) */
  terminateAfterMs?: number;
};

/** A cancelled job stops between steps; one stuck inside a step (a syscall, a long kernel) is terminated after this. */
export const CANCEL_TERMINATE_MS = 8_000;

export function trainInWorker(config: TrainJobConfig, opts: WorkerOpts = {}): WorkerJob {
  return runInWorker<TrainProjectResult>('train', config, opts);
}

/** Predicts a split of a project in a worker; the caller stores the suggestions it returns. */
export function predictInWorker(config: PredictJobConfig, opts: WorkerOpts = {}): WorkerJob<PredictJobResult> {
  return runInWorker<PredictJobResult>('predict', config, opts);
}

/** Exports a model version in a worker. */
export function exportInWorker(config: ExportJobConfig, opts: WorkerOpts = {}): WorkerJob<ExportJobResult> {
  return runInWorker<ExportJobResult>('export', config, opts);
}

/** Writes a training bundle for the PyTorch trainer in a worker. */
export function exportTrainingInWorker(config: ExportTrainingJobConfig, opts: WorkerOpts = {}): WorkerJob<ExportTrainingJobResult> {
  return runInWorker<ExportTrainingJobResult>('export-training', config, opts);
}

/** Imports a model trained by the PyTorch trainer (checks, stores, evaluates) in a worker. */
export function importModelInWorker(config: ImportModelJobConfig, opts: WorkerOpts = {}): WorkerJob<ImportModelJobResult> {
  return runInWorker<ImportModelJobResult>('import-model', config, opts);
}

/** Runs one job of `kind` on a fresh worker thread, which exits when the job is done. */
export function runInWorker<R>(kind: string, config: unknown, opts: WorkerOpts = {}): WorkerJob<R> {
  const worker = new Worker(opts.workerFile ?? defaultTrainWorkerFile());
  const jobId = `${kind}-${Date.now().toString(36)}`;
  let settled = false;
  let started = false;
  // a cancel/pause asked for before the worker is ready waits until the job exists there
  let pendingStop: { type: 'cancel'; jobId: string; pause?: boolean } | null = null;
  let forceStop: (() => void) | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (pause: boolean) => {
    const msg = { type: 'cancel' as const, jobId, ...(pause ? { pause: true } : {}) };
    if (started) worker.postMessage(msg);
    else if (!pendingStop || !pause) pendingStop = msg; // a cancel outranks a pause
    // a cancel always ends the job: a worker that does not answer (stuck in a loop or a syscall) is terminated
    if (!pause && !killTimer && !settled) {
      killTimer = setTimeout(() => forceStop?.(), opts.terminateAfterMs ?? CANCEL_TERMINATE_MS);
      killTimer.unref?.();
    }
  };
  const done = new Promise<{ status: 'ok' | 'cancelled'; result?: R; message?: string }>((resolve, reject) => {
    forceStop = () => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      resolve({ status: 'cancelled', message: `the ${kind} job did not stop when cancelled and was terminated` });
    };
    worker.on('message', (raw: unknown) => {
      const p = FromWorker.safeParse(raw);
      if (!p.success) return;
      const m = p.data;
      if (m.type === 'ready') {
        worker.postMessage({ type: 'start', jobId, kind, config });
        started = true;
        if (pendingStop) worker.postMessage(pendingStop);
      }
      else if (m.type === 'progress' && m.jobId === jobId) opts.onProgress?.(m);
      else if (m.type === 'done' && m.jobId === jobId) {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        worker.postMessage({ type: 'shutdown' });
        void worker.terminate();
        if (m.status === 'error') reject(new Error(m.message ?? `the ${kind} job failed`));
        else resolve({ status: m.status, result: m.result as R | undefined, message: m.message });
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(new Error(`the ${kind} worker crashed: ${err.message}`));
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the ${kind} worker exited (code ${code}) before the job finished`));
      settled = true;
    });
  });
  return { done, cancel: () => stop(false), pause: () => stop(true) };
}

/**
 * Waits for a worker job on behalf of a studio job: cancels the worker when `signal` aborts. Gives the job's result,
 * or `cancelled` (with the worker's message) when it stopped without one.
 */
export async function untilDone<R>(job: Pick<WorkerJob<R>, 'done' | 'cancel'>, signal: AbortSignal): Promise<{ result: R } | { cancelled: string | undefined }> {
  const onAbort = () => job.cancel();
  signal.addEventListener('abort', onAbort);
  try {
    const r = await job.done;
    return r.status === 'cancelled' || !r.result ? { cancelled: r.message } : { result: r.result };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
