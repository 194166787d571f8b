// Data-parallel gradients: the helpers' shares, averaged, equal what one thread computes share by share; the
// helpers follow the trainer's weights; a helper that dies mid-run or cannot start costs a warning, not the run;
// a trainer with a pool resumes from a checkpoint exactly like it runs straight through.
import { writeFileSync } from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import type { ShapesDataset } from '../../../../src-main/core/demo';
import { computeFeatures, toVitArrays, toVitOutput, type VitArrays } from '../../../../src-main/core/features/feature-cache';
import { fastOptimParams, lossAndGrads } from '../../../../src-main/core/training/fast-step';
import { createDataPipeline } from '../../../../src-main/core/data';
import { Rng } from '../../../../src-main/core/data/rng';
import { VIT_AUGREG_NORM, type Sample } from '../../../../src-main/core/data/types';
import { dataParallelByDefault, GradPool, split, type FlatGradients } from '../../../../src-main/core/training/parallel/grad-pool';
import type { TaskModel } from '../../../../src-main/core/task-model/task-model';
import { FlatAdamW } from '../../../../src-main/core/training/optim/adamw-flat';
import { WeightEma } from '../../../../src-main/core/training/optim/ema';
import { updateParams, type FlatOptimState } from '../../../../src-main/core/training/optim/flat-update';
import { latestCheckpoint, Trainer, type TrainEvent } from '../../../../src-main/core/training/trainer';
import type { VitSource } from '../../../../src-main/core/features/types';
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

/** A tiny model, a pool of two helpers attached to it, a batch and the trainable variables (fast set). */
async function setup(images: number[], rng: number) {
  const model = tinyModel(SIZE);
  const pool = await startPool(model);
  const samples = await flipsOnly().batch(images, new Rng(rng));
  const vars = fastOptimParams(model).map((p) => p.variable);
  pool.attach(vars);
  return { model, pool, samples, vars };
}

/** The reference's form: loss, loss parts and each parameter's gradient, keyed by tf variable name. */
interface Grads {
  loss: number;
  parts: Record<string, number>;
  grads: Map<string, Float32Array>;
}

/** The pool's gradients in the reference's form (parameters without a gradient left out). */
function flat(g: FlatGradients, vars: tf.Variable[]): Grads {
  const grads = new Map<string, Float32Array>();
  vars.forEach((v, k) => g.present[k] && grads.set(v.name, Float32Array.from(g.mean(k, new Float32Array(v.size)))));
  return { loss: g.loss, parts: g.parts, grads };
}

function expectSame(got: Grads, want: Grads): void {
  expect([...got.grads.keys()].sort()).toEqual([...want.grads.keys()].sort());
  expect(got.grads.size).toBeGreaterThan(10);
  expect(worstRelDiff(want.grads, got.grads)).toBeLessThan(1e-4);
  expect(got.loss).toBeCloseTo(want.loss, 5);
  for (const k of Object.keys(want.parts)) expect(got.parts[k]).toBeCloseTo(want.parts[k], 5);
}

const bufferValues = (m: TaskModel) => new Map(m.buffers().map((b) => [b.name, Float32Array.from(b.variable.dataSync() as Float32Array)]));
function setBuffers(m: TaskModel, values: Map<string, Float32Array>): void {
  for (const b of m.buffers()) tf.tidy(() => b.variable.assign(tf.tensor(values.get(b.name)!, b.variable.shape)));
}

/**
 * The reference: each share computed here, one after the other from the same BatchNorm statistics, then
 * averaged by share size (in float64); the model's statistics end as the shares' weighted mean.
 */
async function sequential(model: TaskModel, samples: Sample[], shares: number): Promise<Grads> {
  const vars = fastOptimParams(model).map((p) => p.variable);
  const start = bufferValues(model);
  const stats: { n: number; values: Map<string, Float32Array> }[] = [];
  const out: Grads = { loss: 0, parts: {}, grads: new Map() };
  for (const s of split(samples, shares)) {
    setBuffers(model, start);
    const g = await lossAndGrads(model, s, toVitOutput(computeFeatures(model.hst, s)), vars);
    const w = s.length / samples.length;
    stats.push({ n: s.length, values: bufferValues(model) });
    out.loss += w * g.loss;
    for (const [k, v] of Object.entries(g.parts)) out.parts[k] = (out.parts[k] ?? 0) + w * v;
    for (const [k, t] of Object.entries(g.grads)) {
      const sum = out.grads.get(k) ?? new Float32Array(t.size);
      const x = t.dataSync();
      for (let j = 0; j < sum.length; j++) sum[j] += w * x[j];
      out.grads.set(k, sum);
    }
    tf.dispose(Object.values(g.grads));
  }
  const mean = new Map([...start].map(([k, v]) => [k, v.map((_, j) => stats.reduce((a, st) => a + (st.n / samples.length) * st.values.get(k)![j], 0))]));
  setBuffers(model, mean);
  return out;
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
    const g = await pool.gradients(model, [samples], source(model));
    const got = flat(g, vars);
    // the batch statistics reach the variables on syncModel, not before
    expect(worstRelDiff(startStats, bufferValues(model))).toBe(0);
    pool.syncModel();
    // no tensors are left behind: the gradients stay in the helpers' shared memory
    expect(tf.memory().numTensors - before).toBe(0);
    const gotStats = bufferValues(model);
    expect(worstRelDiff(startStats, gotStats)).toBeGreaterThan(1e-3); // the running statistics moved
    // the global norm's Σ g² is over the same mean
    let sq = 0;
    for (const x of got.grads.values()) for (const v of x) sq += v * v;
    expect(g.sumOfSquares()).toBeCloseTo(sq, 6);
    setBuffers(model, startStats);
    const want = await sequential(model, samples, 2);
    expect(worstRelDiff(bufferValues(model), gotStats)).toBeLessThan(1e-5);
    expectSame(got, want);
    // the shares are not the whole batch in one piece (BatchNorm and loss normalisers per share), but close
    const whole = await lossAndGrads(model, samples, toVitOutput(computeFeatures(model.hst, samples)), vars);
    expect(Math.abs(whole.loss - got.loss) / whole.loss).toBeLessThan(0.2);
    tf.dispose(Object.values(whole.grads));
    model.dispose();
  }, 120_000);

  it("moves a source's plain ViT arrays to the helpers (no tensors, no copies), with the same gradients", async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 11);
    const sent: VitArrays[] = [];
    const withArrays: VitSource = Object.assign(source(model), {
      arrays: async (s: readonly Sample[]) => {
        const a = toVitArrays(computeFeatures(model.hst, s));
        sent.push(a);
        return a;
      },
    });
    const before = tf.memory().numTensors;
    const got = flat(await pool.gradients(model, [samples], withArrays), vars);
    expect(tf.memory().numTensors - before).toBe(0);
    expect(sent).toHaveLength(2); // one per share
    for (const a of sent) for (const x of [...a.metaOut, ...a.patches]) expect(x.data.byteLength).toBe(0); // transferred
    // BatchNorm trains on batch statistics, so the statistics the first call left do not change the gradients
    const viaTensors = flat(await pool.gradients(model, [samples], source(model)), vars);
    expect(got.loss).toBe(viaTensors.loss);
    expect(worstRelDiff(viaTensors.grads, got.grads)).toBe(0);
    model.dispose();
  }, 120_000);

  it("follows the trainer's weights from step to step", async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 2);
    const first = (await pool.gradients(model, [samples], source(model))).loss;
    // what the trainer's optimizer does: every trainable weight changes in the shared memory
    const p = pool.params;
    for (let i = 0; i < p.length; i++) p[i] = p[i] * 0.9 + 0.01;
    pool.paramsChanged();
    const got = flat(await pool.gradients(model, [samples], source(model)), vars);
    // the variables follow the shared weights on syncModel
    const before = Float32Array.from(vars[0].dataSync() as Float32Array);
    pool.syncModel();
    const after = vars[0].dataSync();
    expect(after[0]).toBeCloseTo(before[0] * 0.9 + 0.01, 6);
    const want = await sequential(model, samples, 2);
    expectSame(got, want);
    expect(Math.abs(first - got.loss)).toBeGreaterThan(1e-6);
    model.dispose();
  }, 120_000);

  it('averages the micro-batches of an accumulated step, each from the statistics the one before left', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 7);
    const second = await flipsOnly().batch([4, 5, 0, 1], new Rng(8));
    const start = bufferValues(model);
    const got = flat(await pool.gradients(model, [samples, second], source(model)), vars);
    pool.syncModel();
    const gotStats = bufferValues(model);
    setBuffers(model, start);
    const a = await sequential(model, samples, 2);
    const b = await sequential(model, second, 2);
    const want: Grads = { loss: (a.loss + b.loss) / 2, parts: {}, grads: new Map() };
    for (const k of Object.keys(a.parts)) want.parts[k] = (a.parts[k] + b.parts[k]) / 2;
    for (const [k, x] of a.grads) want.grads.set(k, x.map((v, j) => (v + b.grads.get(k)![j]) / 2));
    expectSame(got, want);
    expect(worstRelDiff(bufferValues(model), gotStats)).toBeLessThan(1e-5);
    model.dispose();
  }, 120_000);

  it('refuses to attach to parameters it was not started for', async () => {
    const { model, pool, vars } = await setup([0, 1], 1);
    expect(() => pool.attach(vars.slice(1))).toThrow(`gradient pool: started for ${vars.length} parameters, attached to ${vars.length - 1}`);
    expect(() => pool.attach([...vars.slice(1), vars[0]])).toThrow(/gradient pool: parameter .* has \d+ values in the pool, \d+ in the trainer/);
    model.dispose();
  }, 60_000);

  type Internals = { helpers: { worker: { postMessage(m: unknown): void; terminate(): Promise<number> } }[] };
  const helperWorker = (pool: GradPool, i: number) => (pool as unknown as Internals).helpers[i].worker;

  /** Shared optimizer state for the model's fast parameters (as the trainer makes it), and a local copy of it. */
  function optimState(model: TaskModel) {
    const params = fastOptimParams(model);
    const opt = new FlatAdamW(params, { shared: true, beta2: 0.99 });
    const ema = new WeightEma(params, 0.999, { flat: true, shared: true });
    const state: FlatOptimState = { ...opt.state, ema: ema.flat };
    const copy = (): FlatOptimState => ({ ...state, m: Float32Array.from(state.m), v: Float32Array.from(state.v), ema: Float32Array.from(ema.flat!), done: Int32Array.from(state.done) });
    return { opt, ema, state, copy };
  }

  /** The message types the trainer posts to helper i from now on. */
  function posted(pool: GradPool, i: number): string[] {
    const w = helperWorker(pool, i);
    const post = w.postMessage.bind(w);
    const types: string[] = [];
    w.postMessage = (m: unknown) => {
      types.push((m as { type: string }).type);
      post(m);
    };
    return types;
  }

  /**
   * A pool attached to a tiny model and its shared optimizer state, one step's gradients from it, and the
   * reference: that step's Σ g² and update computed on this thread, on copies of the weights and the state.
   */
  async function optimizerStep(rng: number, gradScale: number, beforeGradients: (pool: GradPool) => void = () => {}) {
    const model = tinyModel(SIZE);
    const pool = await startPool(model);
    const samples = await flipsOnly().batch([0, 1, 2, 3], new Rng(rng));
    const vars = fastOptimParams(model).map((p) => p.variable);
    const { opt, ema, state, copy } = optimState(model);
    pool.attach(vars, state);
    beforeGradients(pool);
    const g = await pool.gradients(model, [samples], source(model));
    const want = { sq: g.sumOfSquares(), weights: Float32Array.from(pool.params), state: copy() };
    const step = opt.begin(3e-3, gradScale, ema.advance());
    updateParams(want.state, want.weights, (k, out) => (g.present[k] ? g.mean(k, out) : null), 0, vars.length, step, new Float32Array(want.weights.length));
    const expectUpdated = () => {
      expect(pool.params).toEqual(want.weights);
      expect(state.m).toEqual(want.state.m);
      expect(state.v).toEqual(want.state.v);
      expect(state.ema).toEqual(want.state.ema);
    };
    return { model, pool, vars, g, step, want, expectUpdated };
  }

  it("runs Σ g² and the optimizer step on the helpers, one range of parameters each, with one thread's floats", async () => {
    let types: string[][] = [];
    const { model, pool, vars, g, step, want, expectUpdated } = await optimizerStep(9, 0.5, (p) => (types = [posted(p, 0), posted(p, 1)]));
    expect(await pool.sumOfSquares(g)).toBe(want.sq);
    await pool.update(g, step);
    for (const t of types) expect(t).toEqual(['step', 'squares', 'update']);
    expectUpdated();
    expect(want.weights).not.toEqual(Float32Array.from(vars.flatMap((v) => [...(v.dataSync() as Float32Array)])));
    // the variables follow on syncModel
    pool.syncModel();
    expect(Float32Array.from(vars.flatMap((v) => [...(v.dataSync() as Float32Array)]))).toEqual(want.weights);
    model.dispose();
  }, 120_000);

  it('finishes on the trainer thread the Σ g² or update of a helper that fails them, with the same floats', async () => {
    for (const bad of ['squares', 'update']) {
      const { model, pool, g, step, want, expectUpdated } = await optimizerStep(10, 1);
      // helper 1 gets a malformed request (a range that ends before it starts) and answers with an error
      const w = helperWorker(pool, 1);
      const post = w.postMessage.bind(w);
      w.postMessage = (m: unknown) => post((m as { type: string }).type === bad ? { ...(m as object), k1: -1 } : m);
      const warnings: string[] = [];
      expect(await pool.sumOfSquares(g, (m) => warnings.push(m))).toBe(want.sq);
      await pool.update(g, step, (m) => warnings.push(m));
      expect(warnings).toEqual([expect.stringMatching(new RegExp(`gradient helper thread stopped \\(gradient helper: bad message: k1: .*\\); training continues with 1`))]);
      expect(pool.size).toBe(1);
      expectUpdated();
      model.dispose();
    }
  }, 240_000);

  it('computes the share of a helper that dies during a step on the trainer thread, warns once, and goes on', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 3);
    // the second helper's thread dies as its share is handed over
    const w = helperWorker(pool, 1);
    w.postMessage = () => void w.terminate();
    const warnings: string[] = [];
    const startStats = bufferValues(model);
    const got = flat(await pool.gradients(model, [samples], source(model), (m) => warnings.push(m)), vars);
    pool.syncModel();
    const gotStats = bufferValues(model);
    setBuffers(model, startStats);
    const want = await sequential(model, samples, 2);
    expect(worstRelDiff(bufferValues(model), gotStats)).toBeLessThan(1e-5);
    expectSame(got, want);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/gradient helper thread stopped \(exited \(code 1\)\); training continues with 1/);
    expect(pool.size).toBe(1);
    // the next step goes to the helper left, whole, without a second warning
    pool.attach(vars); // the statistics the reference ended with
    const again = flat(await pool.gradients(model, [samples], source(model), (m) => warnings.push(m)), vars);
    const whole = await sequential(model, samples, 1);
    expectSame(again, whole);
    expect(warnings).toHaveLength(1);
    model.dispose();
  }, 120_000);

  it('drops a helper that answers with an error (here: a malformed step) and says why', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 4);
    const w = helperWorker(pool, 0);
    const post = w.postMessage.bind(w);
    w.postMessage = (m: unknown) => post({ ...(m as object), samples: [] });
    const warnings: string[] = [];
    const got = await pool.gradients(model, [samples], source(model), (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/gradient helper thread stopped \(gradient helper: bad message: samples: .*\); training continues with 1/)]);
    expect(Number.isFinite(got.loss)).toBe(true);
    expect(Number.isFinite(got.sumOfSquares())).toBe(true);
    model.dispose();
  }, 120_000);

  it('warns about a helper that died between steps, and gives its share to the others', async () => {
    const { model, pool, samples, vars } = await setup([0, 1, 2, 3], 3);
    await helperWorker(pool, 1).terminate();
    await new Promise((r) => setTimeout(r, 50));
    const warnings: string[] = [];
    const got = flat(await pool.gradients(model, [samples], source(model), (m) => warnings.push(m)), vars);
    expect(warnings).toEqual([expect.stringMatching(/gradient helper thread stopped \(exited/)]);
    const whole = await sequential(model, samples, 1);
    expectSame(got, whole);
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
    await expect(pool.gradients(model, [samples], flaky, (m) => warnings.push(m))).rejects.toThrow('feature cache: entry unreadable');
    expect(warnings).toEqual([]);
    expect(pool.size).toBe(2);
    const next = await pool.gradients(model, [samples], source(model), (m) => warnings.push(m));
    expect(Number.isFinite(next.loss)).toBe(true);
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
    const copy = await mkdtemp(join(tmpdir(), 'ck-dp-c-'));
    await cp(dir, copy, { recursive: true });

    const model = tinyModel(SIZE);
    const resumed = new Trainer(model, flipsOnly(), { ...OPTS, checkpointDir: dir }, { vitSource: source(model), pool: await startPool(model) });
    await resumed.resume((await latestCheckpoint(dir))!);
    await resumed.run();
    expect(worstRelDiff(want, snapshot(model))).toBeLessThan(1e-5);
    expect(worstRelDiff(stats, bufferValues(model))).toBeLessThan(1e-5);
    resumed.dispose();
    model.dispose();

    // the same checkpoint resumes without helpers (the optimizer state has the same names and shapes)
    const alone = tinyModel(SIZE);
    const noPool = new Trainer(alone, flipsOnly(), { ...OPTS, checkpointDir: copy }, { vitSource: source(alone) });
    await noPool.resume((await latestCheckpoint(copy))!);
    const steps: number[] = [];
    await noPool.run({ onEvent: (e) => e.type === 'step' && Number.isFinite(e.loss) && steps.push(e.step) });
    expect(steps).toEqual([4, 5, 6]);
    // it trained on from the checkpoint (not to the helpers' result: BatchNorm over the whole batch, not per share)
    const ended = snapshot(alone);
    expect([...ended.values()].every((x) => x.every(Number.isFinite))).toBe(true);
    expect(worstRelDiff(want, ended)).toBeGreaterThan(0);
    noPool.dispose();
    alone.dispose();
  }, 300_000);
});
