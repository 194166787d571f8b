// The fine-tune record on disk and what the train service makes of it when a project opens: a run still
// marked running with no process behind it is interrupted (resumable), a paused one is paused, a finished one
// is history, and a damaged file is named in the message instead of breaking the Train screen.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobRunner } from '../../../src-main/core/app/jobs';
import { readTrainRecord, TRAIN_RECORD_FILE, writeTrainRecord } from '../../../src-main/core/app/train-record';
import { TrainService } from '../../../src-main/core/app/train-service';

let dir: string;
const plan = { tasks: ['detect'], size: 64, steps: 40, batchSize: 2, lr: 0.002, backbone: 'random', randomBackbone: true, trainImages: 4, valImages: 2, preset: 'tiny' };
const base = { jobId: 'j1', plan, config: { project: 'x', steps: 40 }, step: 17, totalSteps: 40, checkpointStep: 10, history: [{ step: 5, loss: 2, lr: 0.001 }, { step: 10, loss: 1.5, lr: 0.002 }, { step: 15, loss: 1.2, lr: 0.002 }] };
const service = () => new TrainService(new JobRunner(() => {}), () => {}, () => {});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hst-record-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('train record', () => {
  it('round-trips and stamps the writer', () => {
    expect(readTrainRecord(dir)).toBeNull();
    writeTrainRecord(dir, { ...base, state: 'paused' });
    const r = readTrainRecord(dir)!;
    expect(r).toMatchObject({ version: 1, state: 'paused', checkpointStep: 10, pid: process.pid });
    expect(r.updatedAt).toBeGreaterThan(0);
  });

  it('names the file and the field when it is damaged', () => {
    mkdirSync(join(dir, 'models'), { recursive: true });
    writeFileSync(join(dir, TRAIN_RECORD_FILE), '{"version":1,');
    expect(() => readTrainRecord(dir)).toThrow(/train-job\.json: not valid JSON/);
    writeFileSync(join(dir, TRAIN_RECORD_FILE), JSON.stringify({ ...base, version: 1, state: 'flying', pid: 1, updatedAt: 1 }));
    expect(() => readTrainRecord(dir)).toThrow(/train-job\.json: state: /);
  });
});

describe('train service on project open', () => {
  it('a run recorded as running with nothing running it is interrupted, resumable from its checkpoint', () => {
    writeTrainRecord(dir, { ...base, state: 'running' });
    const st = service().status(dir);
    expect(st).toMatchObject({ state: 'interrupted', resumable: true, checkpointStep: 10, step: 10, totalSteps: 40, jobId: 'j1' });
    expect(st.history.map((h) => h.step)).toEqual([5, 10]); // steps after the checkpoint are redone
    expect(st.message).toMatch(/checkpoint at step 10/);
  });

  it('paused stays paused; done/cancelled are idle; a damaged record is said, not thrown', () => {
    writeTrainRecord(dir, { ...base, state: 'paused' });
    expect(service().status(dir)).toMatchObject({ state: 'paused', resumable: true });
    writeTrainRecord(dir, { ...base, state: 'done' });
    expect(service().status(dir)).toMatchObject({ state: 'idle', resumable: false });
    writeFileSync(join(dir, TRAIN_RECORD_FILE), 'garbage');
    const st = service().status(dir);
    expect(st.state).toBe('idle');
    expect(st.message).toMatch(/train-job\.json: not valid JSON/);
  });

  it('discarding an interrupted run marks the record cancelled', () => {
    writeTrainRecord(dir, { ...base, state: 'running' });
    const s = service();
    s.cancel(dir);
    expect(s.status(dir)).toMatchObject({ state: 'cancelled', resumable: false });
    expect(readTrainRecord(dir)?.state).toBe('cancelled');
    expect(service().status(dir).state).toBe('idle');
    expect(() => service().cancel(dir)).toThrow(/no fine-tune is running/);
  });
});
