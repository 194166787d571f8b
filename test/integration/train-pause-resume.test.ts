// Pause / resume of a studio fine-tune, and resume after the studio died mid-run: a `hst-studio serve` child is
// SIGKILLed after a checkpoint; a fresh service opening the project lists the run as interrupted and resumes it
// from that checkpoint to a finished model version.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, EventPayload, MethodOutput } from '../../src-main/contract/api';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';
import { TRAIN_RECORD_FILE, type TrainRecord } from '../../src-main/core/app/train-record';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import type { FullProjectStore } from '../../src-main/core/store/types';

const root = fileURLToPath(new URL('../..', import.meta.url));
let tmp: string;
const TINY = { preset: 'tiny', backbone: 'random' } as const;

function newService(events: { event: EventName; payload: unknown }[]): StudioService {
  return new StudioService({
    mode: 'server', stores: sqliteStores,
    doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'test', extraKernels: [], notes: [] }),
    recent: new RecentList(join(tmp, 'recent.json')),
    emit: (event, payload) => events.push({ event, payload }),
  });
}

async function until<T>(what: string, f: () => T | undefined | null | false, ms = 300_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const record = (project: string): TrainRecord | null => {
  try {
    return JSON.parse(readFileSync(join(project, TRAIN_RECORD_FILE), 'utf8')) as TrainRecord;
  } catch {
    return null;
  }
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-pause-'));
  process.env.HST_DATA_DIR = join(tmp, 'data');
}, 600_000);

afterAll(() => {
  delete process.env.HST_DATA_DIR;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('fine-tune pause / resume', () => {
  it('pauses after the current step with a checkpoint, and resumes from exactly there to a model version', async () => {
    const project = join(tmp, 'pause');
    (await createDemoProject(project, { count: 8 })).close();
    const events: { event: EventName; payload: unknown }[] = [];
    const service = newService(events);
    const call = <T>(name: string, input: unknown = {}) => service.call(name, input) as Promise<T>;
    try {
      await service.openAtStart(project);
      await expect(call('train.pause')).rejects.toThrow(/no fine-tune is running/);
      await expect(call('train.resume')).rejects.toThrow(/no paused or interrupted fine-tune/);
      const { jobId } = await call<MethodOutput<'train.start'>>('train.start', { advanced: { ...TINY, steps: 10 } });
      const progress = () => events.filter((e) => e.event === 'train.progress').map((e) => e.payload as EventPayload<'train.progress'>);
      await until('step 1', () => {
        const end = events.find((e) => e.event === 'job.done' && (e.payload as EventPayload<'job.done'>).jobId === jobId)?.payload as EventPayload<'job.done'> | undefined;
        if (end) throw new Error(`the fine-tune ended before its first step: ${end.status} ${end.message ?? ''}`);
        return progress().some((p) => p.step >= 1);
      });
      await call('train.pause');
      await expect(call('train.pause')).rejects.toThrow(/already pausing/);
      const paused = await until('paused', () => events.find((e) => e.event === 'train.state' && (e.payload as EventPayload<'train.state'>).state === 'paused')?.payload as EventPayload<'train.state'> | undefined);
      const last = progress().at(-1)!.step;
      expect(paused.jobId).toBe(jobId);
      expect(paused.step).toBe(last); // stopped after the step it was in, not later
      expect(paused.checkpointStep).toBe(last);
      expect(last).toBeLessThan(10);
      const ckpt = JSON.parse(readFileSync(join(project, 'models/checkpoints/latest.json'), 'utf8')) as { step: number };
      expect(ckpt.step).toBe(last);
      const st = await call<MethodOutput<'train.status'>>('train.status');
      expect(st).toMatchObject({ state: 'paused', resumable: true, checkpointStep: last });
      expect(record(project)).toMatchObject({ state: 'paused', checkpointStep: last });
      const done1 = await until('job.done', () => events.find((e) => e.event === 'job.done' && (e.payload as EventPayload<'job.done'>).jobId === jobId)?.payload as EventPayload<'job.done'>);
      expect(done1).toMatchObject({ status: 'cancelled', message: `paused at step ${last}` });
      expect((service.project as FullProjectStore).listModelVersions()).toHaveLength(0);

      const n = progress().length;
      const res = await call<MethodOutput<'train.resume'>>('train.resume');
      expect(res.fromStep).toBe(last);
      await expect(call('train.resume')).rejects.toThrow(/already running/);
      const done2 = await until('resumed job.done', () => events.find((e) => e.event === 'job.done' && (e.payload as EventPayload<'job.done'>).jobId === res.jobId)?.payload as EventPayload<'job.done'>);
      expect(done2.status, done2.message).toBe('ok');
      const after = progress().slice(n).map((p) => p.step);
      expect(after[0]).toBe(last + 1); // continued, not restarted
      expect(after.at(-1)).toBe(10);
      const versions = (service.project as FullProjectStore).listModelVersions();
      expect(versions).toHaveLength(1);
      expect((await call<MethodOutput<'train.status'>>('train.status')).state).toBe('done');
      expect(record(project)?.state).toBe('done');
      await expect(call('train.resume')).rejects.toThrow(/no paused or interrupted/);
      await service.loop.incrementalIdle();
    } finally {
      service.close();
    }
  }, 600_000);

  it('a paused run can be discarded with cancel', async () => {
    const project = join(tmp, 'discard');
    (await createDemoProject(project, { count: 6 })).close();
    const events: { event: EventName; payload: unknown }[] = [];
    const service = newService(events);
    const call = <T>(name: string, input: unknown = {}) => service.call(name, input) as Promise<T>;
    try {
      await service.openAtStart(project);
      await call('train.start', { advanced: { ...TINY, steps: 12 } });
      await call('train.pause'); // before the first step: the checkpoint is at step 0
      await until('paused', () => events.some((e) => e.event === 'train.state' && (e.payload as EventPayload<'train.state'>).state === 'paused'));
      expect((await call<MethodOutput<'train.status'>>('train.status')).resumable).toBe(true);
      await call('train.cancel');
      expect(await call<MethodOutput<'train.status'>>('train.status')).toMatchObject({ state: 'cancelled', resumable: false });
      await expect(call('train.resume')).rejects.toThrow(/no paused or interrupted/);
      expect(record(project)?.state).toBe('cancelled');
    } finally {
      service.close();
    }
  }, 300_000);
});

describe('fine-tune after a crash', () => {
  it('a run killed mid-way is listed as interrupted on the next open and resumes from its checkpoint', async () => {
    const project = join(tmp, 'crash');
    (await createDemoProject(project, { count: 8 })).close();
    const child = spawn(process.execPath, [join(root, 'bin/hst-studio.js'), 'serve', '--port', '0', '--project', project], {
      cwd: root, env: { ...process.env, HST_BACKEND: 'cpu' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)/.exec(out);
          if (m) resolve(`${m[1]}|${m[2]}`);
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
      });
      const [url, tok] = base.split('|');
      const r = await fetch(`${url}/api/train.start`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-hst-token': tok, origin: url },
        body: JSON.stringify({ advanced: { ...TINY, steps: 30 } }),
      });
      expect(r.status, await r.clone().text()).toBe(200);
      // the first periodic checkpoint (every 6 steps for this plan) is on disk: the studio dies without a chance to react
      const rec = await until('a checkpoint', () => { const x = record(project); return x && x.checkpointStep !== null && x.checkpointStep > 0 ? x : null; });
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(null) : child.once('exit', r)));
      const at = record(project)!;
      expect(at.state).toBe('running');
      expect(at.checkpointStep).toBeLessThan(30);
      expect(rec.checkpointStep).toBeGreaterThan(0);
    } finally {
      if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
    }

    const ckptStep = record(project)!.checkpointStep!;
    const events: { event: EventName; payload: unknown }[] = [];
    const service = newService(events);
    const call = <T>(name: string, input: unknown = {}) => service.call(name, input) as Promise<T>;
    try {
      await service.openAtStart(project);
      const st = await call<MethodOutput<'train.status'>>('train.status');
      expect(st).toMatchObject({ state: 'interrupted', resumable: true, checkpointStep: ckptStep, step: ckptStep });
      expect(st.message).toMatch(/stopped while this fine-tune ran/);
      expect(st.history.every((h) => h.step <= ckptStep)).toBe(true);
      const res = await call<MethodOutput<'train.resume'>>('train.resume');
      expect(res.fromStep).toBe(ckptStep);
      const done = await until('job.done', () => events.find((e) => e.event === 'job.done' && (e.payload as EventPayload<'job.done'>).jobId === res.jobId)?.payload as EventPayload<'job.done'>);
      expect(done.status, done.message).toBe('ok');
      const steps = events.filter((e) => e.event === 'train.progress').map((e) => (e.payload as EventPayload<'train.progress'>).step);
      expect(steps[0]).toBe(ckptStep + 1);
      expect(steps.at(-1)).toBe(30);
      const versions = (service.project as FullProjectStore).listModelVersions();
      expect(versions).toHaveLength(1);
      expect(existsSync(join(project, versions[0].files[0]))).toBe(true);
      // the killed run is closed in the run log; the resumed one finished
      const runs = (service.project as FullProjectStore).listTrainingRuns();
      expect(runs.map((r) => r.status)).toEqual(['failed', 'done']);
      expect(runs[0].error).toMatch(/interrupted; resumed/);
      await service.loop.incrementalIdle();
    } finally {
      service.close();
    }
  }, 600_000);
});
