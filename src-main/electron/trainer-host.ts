// Main-process side of the trainer: owns one worker thread, starts/cancels jobs on it and turns its
// messages into the contract's job.progress / job.done events. The worker is started lazily and restarted
// after a crash; a crash ends every running job with status 'error' (the UI never waits forever).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EventName, EventPayload } from '../contract/api';
import { FromWorker, type ToWorker } from '../core/jobs/protocol';

export type Emit = <K extends EventName>(event: K, payload: EventPayload<K>) => void;

/** The part of worker_threads.Worker the host uses (a fake in unit tests). */
export interface WorkerLike {
  postMessage(msg: ToWorker): void;
  on(event: 'message', fn: (msg: unknown) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'exit', fn: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

export interface TrainerHostOptions {
  emit: Emit;
  /** Built worker file; defaults to dist/main/electron/worker-trainer.js next to this bundle. */
  workerFile?: string;
  createWorker?: (file: string) => WorkerLike;
}

export type JobStatus = EventPayload<'job.done'>['status'];
export interface JobOutcome {
  status: JobStatus;
  message?: string;
  result?: unknown;
}

/** Bundles may land in dist/main/electron/ or dist/main/chunks/: look in both places. */
export function defaultTrainerWorkerFile(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const candidates = [join(from, 'worker-trainer.js'), join(from, '..', 'electron', 'worker-trainer.js')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

interface Running {
  kind: string;
  resolve: (o: JobOutcome) => void;
}

export class TrainerHost {
  private worker: WorkerLike | null = null;
  private jobs = new Map<string, Running>();
  private closed = false;

  constructor(private opts: TrainerHostOptions) {}

  private spawn(): WorkerLike {
    if (this.worker) return this.worker;
    const file = this.opts.workerFile ?? defaultTrainerWorkerFile();
    const w = this.opts.createWorker ? this.opts.createWorker(file) : (new Worker(file) as unknown as WorkerLike);
    w.on('message', (raw) => this.onMessage(raw));
    w.on('error', (err) => this.onCrash(`the trainer worker failed: ${err.message}`));
    w.on('exit', (code) => this.onCrash(`the trainer worker exited (code ${code})`));
    this.worker = w;
    return w;
  }

  private onMessage(raw: unknown): void {
    const parsed = FromWorker.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (msg.type === 'ready') return;
    const job = this.jobs.get(msg.jobId);
    if (!job) return;
    if (msg.type === 'progress') {
      this.opts.emit('job.progress', { jobId: msg.jobId, kind: job.kind, fraction: msg.fraction, ...(msg.message ? { message: msg.message } : {}) });
      return;
    }
    this.jobs.delete(msg.jobId);
    this.opts.emit('job.done', { jobId: msg.jobId, kind: job.kind, status: msg.status, ...(msg.message ? { message: msg.message } : {}) });
    job.resolve({ status: msg.status, message: msg.message, result: msg.result });
  }

  private onCrash(reason: string): void {
    this.worker = null;
    for (const [jobId, job] of this.jobs) {
      this.opts.emit('job.done', { jobId, kind: job.kind, status: 'error', message: reason });
      job.resolve({ status: 'error', message: reason });
    }
    this.jobs.clear();
  }

  /** Starts a job on the worker; `done` settles when the worker reports the end (or dies). */
  start(kind: string, config: unknown): { jobId: string; done: Promise<JobOutcome> } {
    if (this.closed) throw new Error('the trainer is shut down');
    const jobId = randomUUID();
    const done = new Promise<JobOutcome>((resolve) => this.jobs.set(jobId, { kind, resolve }));
    this.spawn().postMessage({ type: 'start', jobId, kind, config });
    return { jobId, done };
  }

  cancel(jobId: string): boolean {
    if (!this.jobs.has(jobId) || !this.worker) return false;
    this.worker.postMessage({ type: 'cancel', jobId });
    return true;
  }

  get running(): string[] {
    return [...this.jobs.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) {
      this.onCrash('the app is closing');
      await w.terminate();
    }
  }
}
