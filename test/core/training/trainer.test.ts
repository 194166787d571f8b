import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import type { ShapesDataset } from '../../../src-main/core/demo';
import type { DataPipeline } from '../../../src-main/core/data';
import { latestCheckpoint, NonFiniteLossError, readCheckpointState, Trainer, type TrainEvent } from '../../../src-main/core/training/trainer';
import { runUntilCheckpoint, tinyModel, tinyShapes, trainPipeline, worstRelDiff } from './helpers';

const SIZE = 32;
let ds: ShapesDataset;

beforeAll(async () => {
  await initCompute({ backend: 'cpu' }); // deterministic kernels: resume must match to float noise
  ds = await tinyShapes(8, SIZE);
});

function params(model: ReturnType<typeof tinyModel>): Map<string, Float32Array> {
  return new Map(model.optimParams().map((p) => [p.name, Float32Array.from(p.variable.dataSync() as Float32Array)]));
}

const OPTS = { steps: 6, batchSize: 2, lr: 3e-3, seed: 9, warmupSteps: 2, checkpointEvery: 3 };

describe('Trainer', () => {
  it('resume from a mid-run checkpoint reproduces the uninterrupted run', async () => {
    const straightModel = tinyModel(SIZE);
    const straight = new Trainer(straightModel, trainPipeline(ds, SIZE), { ...OPTS, checkpointDir: await mkdtemp(join(tmpdir(), 'ck-a-')) });
    const r = await straight.run();
    expect(r.status).toBe('done');
    expect(r.step).toBe(6);
    const want = params(straightModel);
    straight.dispose();
    straightModel.dispose();

    // first half, then "crash": drop model, trainer and pipeline
    const dir = await mkdtemp(join(tmpdir(), 'ck-b-'));
    const halfModel = tinyModel(SIZE);
    const half = new Trainer(halfModel, trainPipeline(ds, SIZE), { ...OPTS, checkpointDir: dir });
    await runUntilCheckpoint(half, 3);
    expect(half.currentStep).toBe(3);
    half.dispose();
    halfModel.dispose();

    const ckpt = await latestCheckpoint(dir);
    expect(ckpt).toMatch(/step-000003$/);
    expect((await readCheckpointState(ckpt!)).cursor).toBe(6);
    const model = tinyModel(SIZE); // fresh random init: everything must come from the checkpoint
    const resumed = new Trainer(model, trainPipeline(ds, SIZE), { ...OPTS, checkpointDir: dir });
    await resumed.resume(ckpt!);
    const events: TrainEvent[] = [];
    await resumed.run({ onEvent: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'start', step: 3, resumed: true });
    const got = params(model);
    expect(worstRelDiff(want, got)).toBeLessThan(1e-5);
    // the run really moved the parameters (a resume that restored nothing could not pass the check above anyway)
    resumed.dispose();
    model.dispose();
  }, 180_000);

  it("hands beta2 to AdamW (default 0.999)", async () => {
    const after = async (extra: { beta2?: number }) => {
      const model = tinyModel(SIZE);
      const t = new Trainer(model, trainPipeline(ds, SIZE), { ...OPTS, steps: 3, checkpointEvery: 0, ...extra });
      await t.run();
      const p = params(model);
      t.dispose();
      model.dispose();
      return p;
    };
    const byDefault = await after({});
    expect(worstRelDiff(byDefault, await after({ beta2: 0.999 }))).toBe(0);
    expect(worstRelDiff(byDefault, await after({ beta2: 0.5 }))).toBeGreaterThan(1e-4);
  }, 180_000);

  it('keeps a moving average of the weights that evaluations see, and a resumed run continues the same average', async () => {
    const opts = { ...OPTS, emaDecay: 0.9 };
    const straightModel = tinyModel(SIZE);
    const straight = new Trainer(straightModel, trainPipeline(ds, SIZE), { ...opts, checkpointDir: await mkdtemp(join(tmpdir(), 'ck-ema-a-')) });
    await straight.run();
    const raw = params(straightModel);
    const seen = await straight.withEvalWeights(async () => params(straightModel));
    expect(params(straightModel)).toEqual(raw); // the trained weights are back after the evaluation
    let moved = 0;
    for (const [name, w] of raw) for (let i = 0; i < w.length; i++) moved = Math.max(moved, Math.abs(seen.get(name)![i] - w[i]));
    expect(moved).toBeGreaterThan(1e-6); // the average is not the last iterate
    straight.useAveragedWeights();
    expect(params(straightModel)).toEqual(seen);
    straight.dispose();
    straightModel.dispose();

    const dir = await mkdtemp(join(tmpdir(), 'ck-ema-b-'));
    const halfModel = tinyModel(SIZE);
    const half = new Trainer(halfModel, trainPipeline(ds, SIZE), { ...opts, checkpointDir: dir });
    await runUntilCheckpoint(half, 3);
    half.dispose();
    halfModel.dispose();
    const ckpt = (await latestCheckpoint(dir))!;
    expect(existsSync(join(ckpt, 'ema.safetensors'))).toBe(true);
    const model = tinyModel(SIZE);
    const resumed = new Trainer(model, trainPipeline(ds, SIZE), { ...opts, checkpointDir: dir });
    await resumed.resume(ckpt);
    await resumed.run();
    resumed.useAveragedWeights();
    const got = params(model);
    expect(worstRelDiff(seen, got)).toBeLessThan(1e-5);
    resumed.dispose();
    model.dispose();
  }, 180_000);

  it('stops on a NaN loss with a clear message and keeps the last good checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ck-nan-'));
    const base = trainPipeline(ds, SIZE);
    let calls = 0;
    const poisoned: DataPipeline = {
      ...base,
      length: base.length,
      size: base.size,
      async batch(indices, rng) {
        const out = await base.batch(indices, rng);
        if (++calls === 3) out[0].image[5] = NaN;
        return out;
      },
    };
    const model = tinyModel(SIZE);
    const trainer = new Trainer(model, poisoned, { ...OPTS, checkpointEvery: 1, checkpointDir: dir });
    const err = await trainer.run().catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/step 3: the loss is not finite/);
    expect((err as Error).message).toContain('step-000002');
    const kept = await latestCheckpoint(dir);
    expect(kept).toMatch(/step-000002$/);
    expect(existsSync(join(kept!, 'model.safetensors'))).toBe(true);
    // the kept checkpoint is good: it loads and its parameters are finite
    const again = tinyModel(SIZE);
    const t2 = new Trainer(again, base, { ...OPTS, checkpointDir: dir });
    await t2.resume(kept!);
    expect(again.optimParams().every((p) => (p.variable.dataSync() as Float32Array).every(Number.isFinite))).toBe(true);
    t2.dispose();
    again.dispose();
    trainer.dispose();
    model.dispose();
  }, 120_000);

  it('keeps the tensor count flat over 50 steps', async () => {
    const model = tinyModel(SIZE);
    const trainer = new Trainer(model, trainPipeline(ds, SIZE), { steps: 50, batchSize: 2, lr: 1e-3, seed: 1, accumulate: 1 });
    const counts: number[] = [];
    await trainer.run({ onEvent: (e) => e.type === 'step' && counts.push(tf.memory().numTensors) });
    expect(counts).toHaveLength(50);
    expect(counts[49]).toBe(counts[1]);
    trainer.dispose();
    model.dispose();
  }, 300_000);

  it('accumulates gradients, reports lr warm-up and cancels between steps', async () => {
    const model = tinyModel(SIZE, ['detect']);
    const trainer = new Trainer(model, trainPipeline(ds, SIZE), { steps: 10, batchSize: 1, accumulate: 2, lr: 1e-3, seed: 1, warmupSteps: 4 });
    const ctl = new AbortController();
    const steps: Extract<TrainEvent, { type: 'step' }>[] = [];
    const r = await trainer.run({ signal: ctl.signal, onEvent: (e) => { if (e.type === 'step') { steps.push(e); if (e.step === 3) ctl.abort(); } } });
    expect(r.status).toBe('cancelled');
    expect(r.step).toBe(3);
    expect(steps[0].lr).toBeLessThan(steps[2].lr);
    expect(Object.keys(steps[0].parts).sort()).toEqual(['det_box', 'det_cls', 'det_ctr']);
    expect(steps[0].imagesPerSec).toBeGreaterThan(0);
    trainer.dispose();
    model.dispose();
  });

  it('rejects bad options with a sentence', () => {
    const model = tinyModel(SIZE, ['detect']);
    expect(() => new Trainer(model, trainPipeline(ds, SIZE), { steps: 0, batchSize: 1, lr: 1e-3, seed: 1 })).toThrow(/steps must be a positive integer/);
    expect(() => new Trainer(model, trainPipeline(ds, SIZE), { steps: 1, batchSize: 1, lr: -1, seed: 1 })).toThrow(/learning rate must be positive/);
    model.dispose();
  });
});
