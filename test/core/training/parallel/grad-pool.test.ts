// Data-parallel gradients: the helpers' shares, averaged, equal what one thread computes share by share; the
// helpers follow the trainer's weights; a helper that dies mid-run or cannot start costs a warning, not the run;
// a trainer with a pool resumes from a checkpoint exactly like it runs straight through.
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import type { ShapesDataset } from '../../../../src-main/core/demo';
import { computeFeatures, toVitOutput } from '../../../../src-main/core/features/feature-cache';
import { fastOptimParams, lossAndGrads } from '../../../../src-main/core/incremental/fast-step';
import { createDataPipeline } from '../../../../src-main/core/training/data';
import { Rng } from '../../../../src-main/core/training/data/rng';
import { VIT_AUGREG_NORM, type Sample } from '../../../../src-main/core/training/data/types';
import { combine, dataParallelByDefault, GradPool, split, type StepGradients } from '../../../../src-main/core/training/parallel/grad-pool';
import type { TaskModel } from '../../../../src-main/core/training/task-model';
import { latestCheckpoint, Trainer, type TrainEvent, type VitSource } from '../../../../src-main/core/training/trainer';
import { CLASSES, runUntilCheckpoint, tinyModel, tinyShapes, tinySpec, worstRelDiff } from '../helpers';

const SIZE = 32;
let ds: ShapesDataset;
const pools: GradPool[] = [];

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
  ds = await tinyShapes(8, SIZE);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const flipsOnly = () => createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 1, split: 'train', augment: { hflip: 0.5, scaleJitter: [1, 1], colorJitter: 0 } });
const source = (model: TaskModel): VitSource => async (samples) => toVitOutput(computeFeatures(model.hst, samples));

async function startPool(model: TaskModel, helpers = 2, extra: { workerFile?: string } = {}, warnings: string[] = []): Promise<GradPool> {
  const pool = await GradPool.start({ model, spec: tinySpec(SIZE), params: fastOptimParams(model), mode: 'fast', helpers, ...extra }, (m) => warnings.push(m));
  pools.push(pool);
  return pool;
}

/** A tiny model, a pool of two helpers for it, a batch and the trainable variables (fast set). */
async function setup(images: number[], rng: number) {
  const model = tinyModel(SIZE);
  const pool = await startPool(model);
  const samples = await flipsOnly().batch(images, new Rng(rng));
  const vars = fastOptimParams(model).map((p) => p.variable);
  return { model, pool, samples, vars };
}

function values(g: StepGradients): Map<string, Float32Array> {
  return new Map(Object.entries(g.grads).map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
}

const bufferValues = (m: TaskModel) => new Map(m.buffers().map((b) => [b.name, Float32Array.from(b.variable.dataSync() as Float32Array)]));
function setBuffers(m: TaskModel, values: Map<string, Float32Array>): void {
  for (const b of m.buffers()) tf.tidy(() => b.variable.assign(tf.tensor(values.get(b.name)!, b.variable.shape)));
}

/**
 * The reference: each share computed here, one after the other from the same BatchNorm statistics, then
 * averaged by share size; the model's statistics end as the shares' weighted mean.
 */
async function sequential(model: TaskModel, samples: Sample[], shares: number): Promise<StepGradients> {
  const vars = fastOptimParams(model).map((p) => p.variable);
  const start = bufferValues(model);
  const parts = [];
  const stats: { n: number; values: Map<string, Float32Array> }[] = [];
  for (const s of split(samples, shares)) {
    setBuffers(model, start);
    parts.push({ g: await lossAndGrads(model, s, toVitOutput(computeFeatures(model.hst, s)), vars), n: s.length });
    stats.push({ n: s.length, values: bufferValues(model) });
  }
  const mean = new Map([...start].map(([k, v]) => [k, v.map((_, j) => stats.reduce((a, st) => a + (st.n / samples.length) * st.values.get(k)![j], 0))]));
  setBuffers(model, mean);
  return combine(parts, vars);
}

describe('split and the default', () => {
  it('splits into near-equal consecutive shares', () => {
    expect(split([1, 2, 3, 4, 5, 6, 7, 8], 2)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(split([1, 2, 3, 4, 5], 2)).toEqual([[1, 2, 3], [4, 5]]);
    expect(split([1, 2, 3], 3)).toEqual([[1], [2], [3]]);
  });

  it('is on by default only where it pays: wasm, 2+ cores, a batch to split', () => {
    expect(dataParallelByDefault('wasm', 8, 2)).toBe(true);
    expect(dataParallelByDefault('wasm', 8, 1)).toBe(false);
    expect(dataParallelByDefault('wasm', 1, 2)).toBe(false);
    expect(dataParallelByDefault('tensorflow', 8, 16)).toBe(false);
    expect(dataParallelByDefault('cpu', 8, 2)).toBe(false);
  });
});

describe('GradPool', () => {
  it("averages the helpers' shares into the gradients one thread computes share by share", async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3, 4], 5);
    expect(pool.size).toBe(2);
    const before = tf.memory().numTensors;
    const startStats = bufferValues(model);
    expect(startStats.size).toBeGreaterThan(0); // the conv stem's BatchNorm
    const got = await pool.lossAndGrads(model, samples, source(model), vars);
    // nothing but the gradients is left behind
    expect(tf.memory().numTensors - before).toBe(Object.keys(got.grads).length);
    const gotStats = bufferValues(model);
    expect(worstRelDiff(startStats, gotStats)).toBeGreaterThan(1e-3); // the running statistics moved
    setBuffers(model, startStats);
    const want = await sequential(model, samples, 2);
    expect(worstRelDiff(bufferValues(model), gotStats)).toBeLessThan(1e-5);
    expect(Object.keys(got.grads).sort()).toEqual(Object.keys(want.grads).sort());
    expect(Object.keys(got.grads).length).toBeGreaterThan(10);
    expect(worstRelDiff(values(want), values(got))).toBeLessThan(1e-4);
    expect(got.loss).toBeCloseTo(want.loss, 5);
    for (const k of Object.keys(want.parts)) expect(got.parts[k]).toBeCloseTo(want.parts[k], 5);
    // the shares are not the whole batch in one piece (BatchNorm and loss normalisers per share), but close
    const whole = await lossAndGrads(model, samples, toVitOutput(computeFeatures(model.hst, samples)), vars);
    expect(Math.abs(whole.loss - got.loss) / whole.loss).toBeLessThan(0.2);
    tf.dispose([...Object.values(got.grads), ...Object.values(want.grads), ...Object.values(whole.grads)]);
    model.dispose();
  }, 120_000);

  it("follows the trainer's weights from step to step", async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 2);
    const first = await pool.lossAndGrads(model, samples, source(model), vars);
    // what an optimizer step does: every trainable weight changes
    for (const v of vars) tf.tidy(() => v.assign(tf.add(tf.mul(v, 0.9), 0.01)));
    const got = await pool.lossAndGrads(model, samples, source(model), vars);
    const want = await sequential(model, samples, 2);
    expect(worstRelDiff(values(want), values(got))).toBeLessThan(1e-4);
    expect(Math.abs(first.loss - got.loss)).toBeGreaterThan(1e-6);
    tf.dispose([...Object.values(first.grads), ...Object.values(got.grads), ...Object.values(want.grads)]);
    model.dispose();
  }, 120_000);

  type Internals = { helpers: { worker: { postMessage(m: unknown): void; terminate(): Promise<number> } }[] };
  const helperWorker = (pool: GradPool, i: number) => (pool as unknown as Internals).helpers[i].worker;

  it('computes the share of a helper that dies during a step on the trainer thread, warns once, and goes on', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 3);
    // the second helper's thread dies as its share is handed over
    const w = helperWorker(pool, 1);
    w.postMessage = () => void w.terminate();
    const warnings: string[] = [];
    const startStats = bufferValues(model);
    const got = await pool.lossAndGrads(model, samples, source(model), vars, (m) => warnings.push(m));
    const gotStats = bufferValues(model);
    setBuffers(model, startStats);
    const want = await sequential(model, samples, 2);
    expect(worstRelDiff(bufferValues(model), gotStats)).toBeLessThan(1e-5);
    expect(worstRelDiff(values(want), values(got))).toBeLessThan(1e-4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/gradient helper thread stopped \(exited \(code 1\)\); training continues with 1/);
    expect(pool.size).toBe(1);
    // the next step goes to the helper left, whole, without a second warning
    const again = await pool.lossAndGrads(model, samples, source(model), vars, (m) => warnings.push(m));
    const whole = await sequential(model, samples, 1);
    expect(worstRelDiff(values(whole), values(again))).toBeLessThan(1e-4);
    expect(warnings).toHaveLength(1);
    tf.dispose([...Object.values(got.grads), ...Object.values(want.grads), ...Object.values(again.grads), ...Object.values(whole.grads)]);
    model.dispose();
  }, 120_000);

  it('drops a helper that answers with an error (here: a malformed step) and says why', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 4);
    const w = helperWorker(pool, 0);
    const post = w.postMessage.bind(w);
    w.postMessage = (m: unknown) => post({ ...(m as object), samples: [] });
    const warnings: string[] = [];
    const got = await pool.lossAndGrads(model, samples, source(model), vars, (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/gradient helper thread stopped \(gradient helper: bad message: samples: .*\); training continues with 1/)]);
    expect(Number.isFinite(got.loss)).toBe(true);
    tf.dispose(Object.values(got.grads));
    model.dispose();
  }, 120_000);

  it('warns about a helper that died between steps, and gives its share to the others', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 3);
    await helperWorker(pool, 1).terminate();
    await new Promise((r) => setTimeout(r, 50));
    const warnings: string[] = [];
    const got = await pool.lossAndGrads(model, samples, source(model), vars, (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/gradient helper thread stopped \(exited/)]);
    const whole = await sequential(model, samples, 1);
    expect(worstRelDiff(values(whole), values(got))).toBeLessThan(1e-4);
    tf.dispose([...Object.values(got.grads), ...Object.values(whole.grads)]);
    model.dispose();
  }, 120_000);

  it('lets a failing ViT source fail the step with its own error, and keeps the helpers', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 6);
    const warnings: string[] = [];
    let calls = 0;
    const flaky: VitSource = async (s) => {
      if (++calls === 2) throw new Error('feature cache: entry unreadable');
      return source(model)(s);
    };
    await expect(pool.lossAndGrads(model, samples, flaky, vars, (m) => warnings.push(m))).rejects.toThrow('feature cache: entry unreadable');
    expect(warnings).toEqual([]);
    expect(pool.size).toBe(2);
    const next = await pool.lossAndGrads(model, samples, source(model), vars, (m) => warnings.push(m));
    expect(Number.isFinite(next.loss)).toBe(true);
    tf.dispose(Object.values(next.grads));
    model.dispose();
  }, 120_000);

  it('says why when no helper can start, and leaves out one that cannot', async () => {
    const model = tinyModel(SIZE);
    const dir = await mkdtemp(join(tmpdir(), 'hst-grad-'));
    const broken = join(dir, 'broken-worker.mjs');
    writeFileSync(broken, "throw new Error('no backend here');\n");
    await expect(startPool(model, 2, { workerFile: broken })).rejects.toThrow(/gradient helper thread crashed while starting: no backend here/);
    await expect(startPool(model, 1, { workerFile: join(dir, 'missing.js') })).rejects.toThrow(/gradient helper thread/);
    model.dispose();
  }, 60_000);
});

describe('Trainer with a gradient pool', () => {
  const OPTS = { steps: 6, batchSize: 4, lr: 3e-3, seed: 4, warmupSteps: 1, checkpointEvery: 3 };
  const snapshot = (m: TaskModel) => new Map(fastOptimParams(m).map((p) => [p.name, Float32Array.from(p.variable.dataSync() as Float32Array)]));

  it('trains, and a run resumed from a checkpoint ends where the straight run ends', async () => {
    const straightModel = tinyModel(SIZE);
    const straightPool = await startPool(straightModel);
    const straight = new Trainer(straightModel, flipsOnly(), { ...OPTS, checkpointDir: await mkdtemp(join(tmpdir(), 'ck-dp-a-')) }, { vitSource: source(straightModel), pool: straightPool });
    const losses: number[] = [];
    const events: TrainEvent[] = [];
    const before = snapshot(straightModel);
    await straight.run({ onEvent: (e) => (events.push(e), e.type === 'step' && losses.push(e.loss)) });
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
    expect(losses.every(Number.isFinite)).toBe(true);
    const want = snapshot(straightModel);
    expect(worstRelDiff(before, want)).toBeGreaterThan(1e-3); // it trained
    // the trainer's own forward never trains now: its BatchNorm statistics come from the helpers
    const stats = bufferValues(straightModel);
    expect([...stats.keys()].some((k) => k.endsWith('running_mean'))).toBe(true);
    for (const [k, v] of stats) expect(v.some((x) => Math.abs(x - (k.endsWith('running_var') ? 1 : 0)) > 1e-3)).toBe(true);
    straight.dispose();
    straightModel.dispose();

    const dir = await mkdtemp(join(tmpdir(), 'ck-dp-b-'));
    const halfModel = tinyModel(SIZE);
    const half = new Trainer(halfModel, flipsOnly(), { ...OPTS, checkpointDir: dir }, { vitSource: source(halfModel), pool: await startPool(halfModel) });
    await runUntilCheckpoint(half, 3);
    half.dispose();
    halfModel.dispose();

    const model = tinyModel(SIZE);
    const resumed = new Trainer(model, flipsOnly(), { ...OPTS, checkpointDir: dir }, { vitSource: source(model), pool: await startPool(model) });
    await resumed.resume((await latestCheckpoint(dir))!);
    await resumed.run();
    expect(worstRelDiff(want, snapshot(model))).toBeLessThan(1e-5);
    expect(worstRelDiff(stats, bufferValues(model))).toBeLessThan(1e-5);
    resumed.dispose();
    model.dispose();
  }, 300_000);
});
