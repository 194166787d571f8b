import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../src-main/contract/api';
import { defaultTrainerWorkerFile, TrainerHost, type WorkerLike } from '../../src-main/electron/trainer-host';
import { FromWorker, ToWorker } from '../../src-main/core/jobs/protocol';

type Ev = [EventName, EventPayload<EventName>];

class FakeWorker implements WorkerLike {
  posted: unknown[] = [];
  handlers: Record<string, ((x: any) => void)[]> = {};
  postMessage(msg: unknown) {
    this.posted.push(ToWorker.parse(msg));
  }
  on(event: string, fn: (x: any) => void) {
    (this.handlers[event] ??= []).push(fn);
    return this;
  }
  fire(event: string, x: unknown) {
    for (const fn of this.handlers[event] ?? []) fn(x);
  }
  async terminate() {
    return 0;
  }
}

function host() {
  const emitted: Ev[] = [];
  const workers: FakeWorker[] = [];
  const h = new TrainerHost({
    emit: (e, p) => emitted.push([e, p]),
    workerFile: '/fake.js',
    createWorker: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
  });
  return { h, emitted, workers };
}

describe('TrainerHost (fake worker)', () => {
  it('forwards progress and completion as contract events', async () => {
    const { h, emitted, workers } = host();
    const { jobId, done } = h.start('train', { epochs: 1 });
    const w = workers[0];
    expect(w.posted).toEqual([{ type: 'start', jobId, kind: 'train', config: { epochs: 1 } }]);
    w.fire('message', { type: 'progress', jobId, fraction: 0.25, message: 'epoch 1' });
    w.fire('message', { type: 'done', jobId, status: 'ok', result: { map: 0.5 } });
    expect(await done).toEqual({ status: 'ok', message: undefined, result: { map: 0.5 } });
    expect(emitted).toEqual([
      ['job.progress', { jobId, kind: 'train', fraction: 0.25, message: 'epoch 1' }],
      ['job.done', { jobId, kind: 'train', status: 'ok' }],
    ]);
    expect(h.running).toEqual([]);
  });

  it('ignores malformed worker messages and messages for unknown jobs', () => {
    const { h, emitted, workers } = host();
    const { jobId } = h.start('train', {});
    workers[0].fire('message', { type: 'progress', jobId, fraction: 9 });
    workers[0].fire('message', { type: 'progress', jobId: 'other', fraction: 0.1 });
    workers[0].fire('message', 'garbage');
    expect(emitted).toEqual([]);
  });

  it('a crash ends running jobs with an error and the next start spawns a new worker', async () => {
    const { h, emitted, workers } = host();
    const { jobId, done } = h.start('train', {});
    workers[0].fire('error', new Error('out of memory'));
    expect(await done).toEqual({ status: 'error', message: 'the trainer worker failed: out of memory' });
    expect(emitted).toEqual([['job.done', { jobId, kind: 'train', status: 'error', message: 'the trainer worker failed: out of memory' }]]);
    h.start('train', {});
    expect(workers.length).toBe(2);
  });

  it('cancel posts a cancel message for running jobs only', () => {
    const { h, workers } = host();
    const { jobId } = h.start('train', {});
    expect(h.cancel(jobId)).toBe(true);
    expect(h.cancel('nope')).toBe(false);
    expect(workers[0].posted[1]).toEqual({ type: 'cancel', jobId });
  });

  it('refuses new jobs after close', async () => {
    const { h } = host();
    await h.close();
    expect(() => h.start('train', {})).toThrow(/shut down/);
  });
});

// The real worker thread, from the build (the suite's global setup, test/global-setup.ts, builds it once).
const builtWorker = join(process.cwd(), 'dist', 'main', 'electron', 'worker-trainer.js');

describe('TrainerHost (real worker thread from dist)', () => {
  it('the built worker exists (run `node scripts/build.mjs` first)', () => {
    expect(existsSync(builtWorker)).toBe(true);
    expect(defaultTrainerWorkerFile(join(process.cwd(), 'dist', 'main', 'electron'))).toBe(builtWorker);
  });

  it('runs a probe job off the main thread with progress, and reports unknown kinds', async () => {
    const emitted: Ev[] = [];
    const h = new TrainerHost({ emit: (e, p) => emitted.push([e, p]), workerFile: builtWorker });
    try {
      // The main event loop must stay free while the job runs: count timer ticks meanwhile.
      let ticks = 0;
      const iv = setInterval(() => ticks++, 1);
      const { jobId, done } = h.start('probe', { steps: 5, intervalMs: 5 });
      expect(await done).toEqual({ status: 'ok', message: undefined, result: { steps: 5 } });
      clearInterval(iv);
      expect(ticks).toBeGreaterThan(3);
      const progress = emitted.filter(([e]) => e === 'job.progress').map(([, p]) => (p as EventPayload<'job.progress'>).fraction);
      expect(progress).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
      expect(emitted.at(-1)).toEqual(['job.done', { jobId, kind: 'probe', status: 'ok' }]);

      const train = h.start('train', {});
      expect(await train.done).toMatchObject({ status: 'error', message: expect.stringMatching(/train config: project/) });
      const other = h.start('export', {});
      expect(await other.done).toMatchObject({ status: 'error', message: expect.stringMatching(/not available in this build/) });
      const bad = h.start('probe', { steps: 0 });
      expect(await bad.done).toMatchObject({ status: 'error', message: expect.stringMatching(/probe config: steps/) });
    } finally {
      await h.close();
    }
  });

  it('cancels a running probe', async () => {
    const h = new TrainerHost({ emit: () => undefined, workerFile: builtWorker });
    try {
      const { jobId, done } = h.start('probe', { steps: 1000, intervalMs: 5 });
      setTimeout(() => h.cancel(jobId), 30);
      expect((await done).status).toBe('cancelled');
    } finally {
      await h.close();
    }
  });
});

describe('trainer protocol', () => {
  it('rejects malformed messages both ways', () => {
    expect(ToWorker.safeParse({ type: 'start', jobId: '', kind: 'x' }).success).toBe(false);
    expect(ToWorker.safeParse({ type: 'rm -rf' }).success).toBe(false);
    expect(FromWorker.safeParse({ type: 'progress', jobId: 'j', fraction: -0.1 }).success).toBe(false);
    expect(FromWorker.safeParse({ type: 'done', jobId: 'j', status: 'maybe' }).success).toBe(false);
  });
});
