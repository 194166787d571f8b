// A job can end before its start call returns (a missing folder, a duplicate file): its outcome stays
// readable (jobs.get) and cancelling it is a no-op rather than a 404 (issue 18).
import { describe, expect, it } from 'vitest';
import type { EventName } from '../../../src-main/contract/api';
import { JobRunner } from '../../../src-main/core/app/jobs';

describe('JobRunner', () => {
  it('remembers a finished job\'s outcome and knows it finished', async () => {
    const events: { event: EventName; payload: unknown }[] = [];
    const jobs = new JobRunner((event, payload) => events.push({ event, payload }));
    const id = jobs.start('import', async () => ({ added: 0, skipped: [{ path: '/x', reason: 'missing' }] }));
    expect(jobs.get(id)).toEqual({ state: 'running', kind: 'import' });
    await new Promise((r) => setTimeout(r, 0));
    const got = jobs.get(id);
    expect(got?.state).toBe('done');
    expect(got?.state === 'done' && got.done).toMatchObject({ jobId: id, status: 'ok', added: 0 });
    expect(events.at(-1)).toEqual({ event: 'job.done', payload: got?.state === 'done' ? got.done : null });
    expect(jobs.isFinished(id)).toBe(true);
    expect(jobs.cancel(id)).toBe(false);
    expect(jobs.get('nope')).toBeNull();
  });

  it('keeps a bounded number of finished jobs', async () => {
    const jobs = new JobRunner(() => undefined);
    const ids = Array.from({ length: 120 }, () => jobs.start('x', async () => ({})));
    await new Promise((r) => setTimeout(r, 0));
    expect(jobs.get(ids[0])).toBeNull();
    expect(jobs.get(ids[119])?.state).toBe('done');
  });
});
