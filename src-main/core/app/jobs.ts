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

export class JobRunner {
  private running = new Map<string, AbortController>();
  constructor(private emit: Emit) {}

  start(kind: string, work: (ctx: JobContext) => Promise<Partial<EventPayload<'job.done'>>>): string {
    const jobId = randomUUID();
    const ac = new AbortController();
    this.running.set(jobId, ac);
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
        this.emit('job.done', { jobId, kind, status: ac.signal.aborted ? 'cancelled' : 'ok', ...extra });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        this.emit('job.done', { jobId, kind, status: ac.signal.aborted ? 'cancelled' : 'error', message: msg });
      } finally {
        this.running.delete(jobId);
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
