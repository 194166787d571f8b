// A full-recipe HST training step on webgpu against the cpu backend: the gradient of every trainable parameter
// (MetaT, ViT LayerNorms, side network, every task head: each kernel of the step's forward and backward is on
// that path), a few Trainer steps with the moving average and a checkpoint, and no tensor leak from step to step.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import type { ShapesDataset } from '../../../../src-main/core/demo';
import { lossAndGrads } from '../../../../src-main/core/training/fast-step';
import { Rng } from '../../../../src-main/core/data/rng';
import type { Sample } from '../../../../src-main/core/data/types';
import { latestCheckpoint, Trainer, type TrainEvent } from '../../../../src-main/core/training/trainer';
import { tinyModel, tinyShapes, trainPipeline } from '../../training/helpers';
import { failInCiWithoutAdapter, maxRel, normRel, webgpuGate } from './webgpu-gate';

const gate = await webgpuGate();
const SIZE = 32;
// lavapipe compiles each new shader with LLVM: the first step of a model is slow there
const SLOW = 600_000;

async function readAll(ts: Record<string, tf.Tensor>, rename: (k: string) => string = (k) => k): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of Object.entries(ts)) out.set(rename(k), Float32Array.from((await t.data()) as Float32Array));
  return out;
}

/** Gradients are keyed by tf variable name (unique per process); the parameters' own names compare across models. */
function paramName(model: ReturnType<typeof tinyModel>): (k: string) => string {
  const m = new Map(model.optimParams().map((p) => [p.variable.name, p.name]));
  return (k) => m.get(k) ?? k;
}

async function params(model: ReturnType<typeof tinyModel>): Promise<Map<string, Float32Array>> {
  return readAll(Object.fromEntries(model.optimParams().map((p) => [p.name, p.variable])));
}

const TRAIN = { steps: 4, batchSize: 2, lr: 3e-3, seed: 9, warmupSteps: 1, checkpointEvery: 4, emaDecay: 0.9 };

describe.skipIf(!gate.run)(`HST training on webgpu matches the cpu backend (${gate.reason})`, () => {
  let ds: ShapesDataset;
  let samples: Sample[];
  let state: ReturnType<ReturnType<typeof tinyModel>['exportTensors']>;
  let cpuStep: { loss: number; grads: Map<string, Float32Array> };
  let cpuTrained: Map<string, Float32Array>;
  const cpuLosses: number[] = [];
  // every cpu reference first: tensors some modules keep (caches) must not cross from one backend to the other
  beforeAll(async () => {
    ds = await tinyShapes(8, SIZE);
    samples = await trainPipeline(ds, SIZE).batch([0, 1], new Rng(5));
    await initCompute({ backend: 'cpu' });
    const m = tinyModel(SIZE);
    state = m.exportTensors();
    const c = await lossAndGrads(m, samples, null, m.optimParams().map((p) => p.variable));
    cpuStep = { loss: c.loss, grads: await readAll(c.grads, paramName(m)) };
    tf.dispose(Object.values(c.grads));
    m.dispose();
    const m2 = tinyModel(SIZE);
    m2.importTensors(state, 'cpu model');
    const t = new Trainer(m2, trainPipeline(ds, SIZE), TRAIN);
    await t.run({ onEvent: (e) => e.type === 'step' && cpuLosses.push(e.loss) });
    t.useAveragedWeights();
    cpuTrained = await params(m2);
    t.dispose();
    m2.dispose();
    await initCompute({ backend: 'webgpu' });
  }, SLOW);

  it("gives every parameter the cpu backend's gradient, with every kernel of the step on the GPU", async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const model = tinyModel(SIZE);
    model.importTensors(state, 'cpu model');
    let got: Map<string, Float32Array> = new Map();
    let loss = NaN;
    const prof = await tf.profile(async () => {
      const g = await lossAndGrads(model, samples, null, model.optimParams().map((p) => p.variable));
      got = await readAll(g.grads, paramName(model));
      loss = g.loss;
      tf.dispose(Object.values(g.grads));
    });
    // the profile also lists op scopes ("fusedMatMul__op"); kernels are the names some backend registers
    const known = new Set([...tf.getKernelsForBackend('cpu'), ...tf.getKernelsForBackend('webgpu')].map((k) => k.kernelName));
    const kernels = new Set(prof.kernels.map((k) => k.name).filter((k) => known.has(k)));
    const notOnGpu = [...kernels].filter((k) => !tf.getKernel(k, 'webgpu'));
    console.log(`webgpu train step: ${kernels.size} distinct kernels (${[...kernels].sort().join(', ')}); loss ${loss} (cpu ${cpuStep.loss})`);
    // every kernel the step ran is a webgpu kernel (none missing, none run on the CPU instead)
    expect(notOnGpu).toEqual([]);
    expect(kernels.size).toBeGreaterThan(30);
    expect(Math.abs(loss - cpuStep.loss) / Math.abs(cpuStep.loss)).toBeLessThan(1e-5);
    expect([...got.keys()].sort()).toEqual([...cpuStep.grads.keys()].sort());
    let worst = 0;
    let worstName = '';
    for (const [name, w] of cpuStep.grads) {
      const e = normRel(got.get(name)!, w);
      if (e > worst) [worst, worstName] = [e, name];
    }
    console.log(`gradients: ${cpuStep.grads.size} parameters, worst ‖Δ‖/‖g‖ ${worst.toExponential(2)} (${worstName})`);
    expect(worst).toBeLessThan(1e-3);
    model.dispose();
  }, SLOW);

  it("trains a few steps (moving average, checkpoint) to the cpu backend's weights, without leaking tensors", async () => {
    const model = tinyModel(SIZE);
    model.importTensors(state, 'cpu model');
    const dir = await mkdtemp(join(tmpdir(), 'ck-webgpu-'));
    const t = new Trainer(model, trainPipeline(ds, SIZE), { ...TRAIN, checkpointDir: dir });
    const tensorsAfter: number[] = [];
    const events: TrainEvent[] = [];
    const r = await t.run({ onEvent: (e) => (events.push(e), e.type === 'step' && tensorsAfter.push(tf.memory().numTensors)) });
    expect(r.status).toBe('done');
    t.useAveragedWeights();
    const got = await params(model);
    let worst = 0;
    for (const [name, w] of cpuTrained) worst = Math.max(worst, maxRel(got.get(name)!, w));
    console.log(`losses cpu ${cpuLosses.join(', ')} webgpu ${events.flatMap((e) => (e.type === 'step' ? [e.loss] : [])).join(', ')}`);
    console.log(`4 steps: worst max|Δ|/max|w| per parameter ${worst.toExponential(2)}; live tensors after each step ${tensorsAfter.join(', ')}`);
    expect(worst).toBeLessThan(1e-3);
    // the same number of live tensors after every step: nothing accumulates
    expect(new Set(tensorsAfter.slice(1)).size).toBe(1);
    const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
    expect(steps).toHaveLength(4);
    for (const s of steps) expect(s.gpuBytes).toBeGreaterThan(0);
    expect(await latestCheckpoint(dir)).toMatch(/step-000004$/);
    t.dispose();
    model.dispose();
  }, SLOW);
});
failInCiWithoutAdapter(gate);
