// Every job ends (issue 21): `jobs.cancel` used to answer 200 while the job looped on. A job can end before its
// start call returns (a missing folder, a duplicate file): its outcome stays readable (jobs.get) and cancelling it is
// a no-op rather than a 404 (issue 18).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../../src-main/contract/api';
import { JobRunner } from '../../../src-main/core/app/jobs';

function runner(graceMs: number) {
  const done: EventPayload<'job.done'>[] = [];
  const r = new JobRunner((event, payload) => {
    if (event === 'job.done') done.push(payload as EventPayload<'job.done'>);
  }, graceMs);
  return { r, done };
}

describe('JobRunner', () => {
  it('a cancelled job whose work never stops is reported cancelled after the grace period and forgotten', async () => {
    const { r, done } = runner(100);
    const id = r.start('export', () => new Promise(() => undefined)); // ignores its signal, never settles
    expect(r.cancel(id)).toBe(true);
    await new Promise((res) => setTimeout(res, 250));
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ jobId: id, status: 'cancelled' });
    expect(done[0].message).toMatch(/did not stop within 0.1 s: abandoned/);
    expect(r.active).toBe(0);
    expect(r.cancel(id)).toBe(false);
  });

  it('a job that stops on its signal ends once, as cancelled', async () => {
    const { r, done } = runner(1000);
    const id = r.start('import', ({ signal }) => new Promise((res) => signal.addEventListener('abort', () => res({}))));
    r.cancel(id);
    await new Promise((res) => setTimeout(res, 50));
    expect(done).toEqual([{ jobId: id, kind: 'import', status: 'cancelled' }]);
  });

  it('a job past its time limit is aborted and reported as an error', async () => {
    const { r, done } = runner(100);
    const id = r.start('export', ({ signal }) => new Promise((_, rej) => signal.addEventListener('abort', () => rej(new Error('stopped')))), { limitMs: 50 });
    await new Promise((res) => setTimeout(res, 150));
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ jobId: id, status: 'error' });
    expect(done[0].message).toMatch(/ran past its limit/);
  });
});

describe('worker jobs', () => {
  it('a worker stuck in a loop is terminated after its cancel', async () => {
    const { runInWorker } = await import('../../../src-main/core/jobs/worker-client');
    const dir = mkdtempSync(join(tmpdir(), 'hst-stuck-worker-'));
    const file = join(dir, 'stuck.mjs');
    // answers `ready`, then spins forever on `start` (what a recursive mkdir under /proc did): it never reads `cancel`
    writeFileSync(file, `import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ type: 'ready', protocol: 1, kinds: ['export'] });
parentPort.on('message', (m) => { if (m.type === 'start') for (;;) {} });`);
    try {
      const job = runInWorker('export', {}, { workerFile: file, terminateAfterMs: 200 });
      await new Promise((res) => setTimeout(res, 300));
      const t0 = performance.now();
      job.cancel();
      const r = await job.done;
      expect(r.status).toBe('cancelled');
      expect(r.message).toMatch(/did not stop when cancelled and was terminated/);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('JobRunner: finished jobs', () => {
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
