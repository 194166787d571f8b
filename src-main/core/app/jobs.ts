// Long-running work (imports) runs as a job: an id, progress events, cancel through an AbortSignal.
import { randomUUID } from 'node:crypto';
import type { EventName, EventPayload } from '../../contract/api';

/** Abort reasons a job can tell apart (`signal.reason`). */
export const CANCEL = 'cancel';
export const CLOSING = 'closing';

export type Emit = <K extends EventName>(event: K, payload: EventPayload<K>) => void;

export interface JobContext {
  signal: AbortSignal;
  progress(fraction: number, message?: string): void;
}

/** How many finished jobs are remembered, so a client that missed `job.done` can still read the outcome. */
const FINISHED_KEPT = 100;

export class JobRunner {
  private running = new Map<string, AbortController>();
  private kinds = new Map<string, string>();
  private finished = new Map<string, EventPayload<'job.done'>>();
  constructor(private emit: Emit) {}

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

  start(kind: string, work: (ctx: JobContext) => Promise<Partial<EventPayload<'job.done'>>>): string {
    const jobId = randomUUID();
    const ac = new AbortController();
    this.running.set(jobId, ac);
    this.kinds.set(jobId, kind);
    let last = 0;
    const progress = (fraction: number, message?: string) => {
      const now = Date.now();
      // Throttle: a 10,000-file import must not flood the socket.
      if (fraction < 1 && now - last < 100) return;
      last = now;
      this.emit('job.progress', { jobId, kind, fraction: Math.max(0, Math.min(1, fraction)), message });
    };
    void (async () => {
      try {
        const extra = await work({ signal: ac.signal, progress });
        this.running.delete(jobId);
        this.finish({ jobId, kind, status: ac.signal.aborted ? 'cancelled' : 'ok', ...extra });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        this.running.delete(jobId);
        this.finish({ jobId, kind, status: ac.signal.aborted ? 'cancelled' : 'error', message: msg });
      } finally {
        this.running.delete(jobId);
        this.kinds.delete(jobId);
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
