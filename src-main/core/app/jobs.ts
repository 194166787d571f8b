// Long-running work (imports) runs as a job: an id, progress events, cancel through an AbortSignal.
import { randomUUID } from 'node:crypto';
import type { EventName, EventPayload } from '../../contract/api';

/** Abort reasons a job can tell apart (`signal.reason`). */
export const CANCEL = 'cancel';
export const CLOSING = 'closing';
/** The job ran past its time limit. */
export const TIMEOUT = 'timeout';

/** How long a cancelled job may take to stop before it is reported ended and abandoned. */
export const CANCEL_GRACE_MS = 10_000;

export interface JobOptions {
  /** the job is aborted (reason TIMEOUT) when it runs longer than this */
  limitMs?: number;
}

export type Emit = <K extends EventName>(event: K, payload: EventPayload<K>) => void;

export interface JobContext {
  signal: AbortSignal;
  progress(fraction: number, message?: string): void;
}

/** How many finished jobs are remembered, so a client that missed `job.done` can still read the outcome. */
const FINISHED_KEPT = 100;

/**
 * Every job ends: when it is cancelled (or runs past its limit) its signal aborts, and if its work has not
 * settled `graceMs` later the job is reported done ('cancelled') and forgotten, whatever it was doing; work that
 * settles later is ignored. Work in a worker thread is terminated by its own cancel (worker-client.ts).
 */
export class JobRunner {
  private running = new Map<string, AbortController>();
  private kinds = new Map<string, string>();
  private finished = new Map<string, EventPayload<'job.done'>>();
  constructor(private emit: Emit, private readonly graceMs: number = CANCEL_GRACE_MS) {}

  private finish(payload: EventPayload<'job.done'>): void {
    this.finished.set(payload.jobId, payload);
    for (const k of this.finished.keys()) {
      if (this.finished.size <= FINISHED_KEPT) break;
      this.finished.delete(k);
    }
    this.emit('job.done', payload);
  }

  /** A job's state: running, its `job.done` payload once finished, or null for an id never seen (or forgotten). */
  get(jobId: string): { state: 'running'; kind: string } | { state: 'done'; done: EventPayload<'job.done'> } | null {
    if (this.running.has(jobId)) return { state: 'running', kind: this.kinds.get(jobId) ?? '' };
    const done = this.finished.get(jobId);
    return done ? { state: 'done', done } : null;
  }

  /** True when the job finished already (cancelling it is then a no-op, not an error). */
  isFinished(jobId: string): boolean {
    return this.finished.has(jobId);
  }

  start(kind: string, work: (ctx: JobContext) => Promise<Partial<EventPayload<'job.done'>>>, opts: JobOptions = {}): string {
    const jobId = randomUUID();
    const ac = new AbortController();
    this.running.set(jobId, ac);
    this.kinds.set(jobId, kind);
    let ended = false;
    const end = (payload: EventPayload<'job.done'>) => {
      if (ended) return;
      ended = true;
      clearTimeout(limit);
      clearTimeout(grace);
      this.running.delete(jobId);
      this.kinds.delete(jobId);
      this.finish(payload);
    };
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      // closing pauses resumable work (a fine-tune writes its checkpoint): that is waited for, not abandoned
      if (ac.signal.reason === CLOSING) return;
      grace = setTimeout(() => {
        const why = ac.signal.reason === TIMEOUT ? `ran past its limit of ${Math.round((opts.limitMs ?? 0) / 1000)} s` : 'was cancelled';
        end({ jobId, kind, status: 'cancelled', message: `the ${kind} job ${why} and did not stop within ${Math.round(this.graceMs / 100) / 10} s: abandoned` });
      }, this.graceMs);
      grace.unref?.();
    };
    ac.signal.addEventListener('abort', onAbort, { once: true });
    const limit = opts.limitMs ? setTimeout(() => ac.abort(TIMEOUT), opts.limitMs) : undefined;
    limit?.unref?.();
    let last = 0;
    const progress = (fraction: number, message?: string) => {
      const now = Date.now();
      // Throttle: a 10,000-file import must not flood the socket.
      if (fraction < 1 && now - last < 100) return;
      last = now;
      this.emit('job.progress', { jobId, kind, fraction: Math.max(0, Math.min(1, fraction)), message });
    };
    const timedOut = () => ac.signal.reason === TIMEOUT;
    void (async () => {
      try {
        const extra = await work({ signal: ac.signal, progress });
        if (timedOut()) end({ jobId, kind, status: 'error', message: `the ${kind} job ran past its limit of ${Math.round((opts.limitMs ?? 0) / 1000)} s` });
        else end({ jobId, kind, status: ac.signal.aborted ? 'cancelled' : 'ok', ...extra });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (timedOut()) end({ jobId, kind, status: 'error', message: `the ${kind} job ran past its limit of ${Math.round((opts.limitMs ?? 0) / 1000)} s: ${msg}` });
        else end({ jobId, kind, status: ac.signal.aborted ? 'cancelled' : 'error', message: msg });
      }
    })();
    return jobId;
  }

  /** The job's signal is aborted with reason CANCEL: the user asked. */
  cancel(jobId: string): boolean {
    const ac = this.running.get(jobId);
    ac?.abort(CANCEL);
    return !!ac;
  }

  /** Project close / shutdown: reason CLOSING, so a job that can stop resumably (a fine-tune pauses) does so. */
  cancelAll(): void {
    for (const ac of this.running.values()) ac.abort(CLOSING);
  }

  get active(): number {
    return this.running.size;
  }
}
