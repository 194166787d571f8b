// The PyTorch task model (trainers/pytorch) against the studio's: on the same weights, inputs and targets, every
// head's raw outputs, the loss parts of one training forward, the gradients and the weights after one optimizer
// step (global-norm clipping + AdamW, as the trainer does) must agree.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/core/compute/engine';
import { rawOutputs } from '../../src-main/core/export/runtime/raw-outputs';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors } from '../../src-main/core/io/safetensors';
import { buildTaskModel, saveTaskModel, type TaskModelSpec } from '../../src-main/core/task-model/model-spec';
import { defaultHeadSettings, type TaskModel } from '../../src-main/core/task-model/task-model';
import { VIT_AUGREG_NORM } from '../../src-main/core/data/types';
import { AdamW } from '../../src-main/core/training/optim/adamw';
import { clipCoefficient, globalNorm } from '../../src-main/core/training/optim/clip';
import { Rng } from '../../src-main/core/data/rng';
import { toTorchValues } from '../../src-main/core/io/torch-layout';
import { findTorchPython, runPython, torchAvailable } from './python-env';

const ok = torchAvailable();
const LR = 1e-3;
const BETA2 = 0.999;
const H = 64;
const W = 64;

/** ||a − b|| / ||b|| over all elements (the fixture's parity measure). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

function spec(): TaskModelSpec {
  return {
    format: 'hst-studio-task-model',
    version: 1,
    // img_size 32 at a 64 px input: the position embedding is resampled (bicubic, antialiased) on both sides
    hst: { img_size: 32, patch_size: 16, embed_dim: 32, depth: 4, num_heads: 2, m_embed_dims: [8, 16, 16, 16], m_c_num_heads: [1, 2, 2, 4] },
    heads: defaultHeadSettings(['detect', 'instance', 'semantic', 'classify'], 3, { fpnWidth: 8, towerDepth: 2, maskBranchDepth: 2, lossWeights: { sem_ce: 0.5 } }),
    classes: ['a', 'b', 'c'],
    inputSize: H,
    norm: VIT_AUGREG_NORM,
    backbone: { kind: 'random', label: 'random (untrained) backbone' },
    seed: 5,
  };
}

function rectMask(x0: number, y0: number, x1: number, y1: number): number[] {
  const m = new Array<number>(H * W).fill(0);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}

/** Two images: masked objects (one overlapping), a box-only object (semantic all-ignore), class labels 1 / unknown. */
function targets() {
  return {
    images: [
      { boxes: [4, 6, 40, 50, 20, 20, 60, 44], labels: [0, 2], masks: [rectMask(4, 6, 40, 50), rectMask(20, 20, 60, 44)], classLabel: 1 },
      { boxes: [10, 12, 30, 60, 33, 5, 62, 30], labels: [1, 0], masks: [rectMask(10, 12, 30, 60), null], classLabel: -1 },
    ],
  };
}

describe.runIf(ok || process.env.CI)('PyTorch task model = studio task model', () => {
  let dir: string;
  let model: TaskModel;
  let py: Map<string, Float32Array>;
  let pyShapes: Map<string, number[]>;
  const ts = new Map<string, Float32Array>();
  let tsParts: Record<string, number> = {};
  let tsNorm = 0;
  const tsGrads = new Map<string, Float32Array>();

  beforeAll(async () => {
    if (!ok) throw new Error(findTorchPython().reason!);
    dir = mkdtempSync(join(tmpdir(), 'hst-torch-parity-'));
    const s = spec();
    model = buildTaskModel(s);
    const saved = await saveTaskModel(model, s, join(dir, 'model.safetensors'));
    const rng = new Rng(42);
    const xv = Float32Array.from({ length: 2 * H * W * 3 }, () => rng.uniform(-1, 1));
    await writeSafetensors(join(dir, 'inputs.safetensors'), { x: f32Tensor(xv, [2, H, W, 3]) });
    const tj = targets();
    writeFileSync(join(dir, 'targets.json'), JSON.stringify(tj));
    const x = tf.tensor4d(xv, [2, H, W, 3]);
    const raw = rawOutputs(model.hst, model.heads, x);
    for (const [k, v] of Object.entries(raw)) ts.set(`raw.${k}`, Float32Array.from(v.dataSync() as Float32Array));
    tf.dispose(Object.values(raw));

    const prepared = model.heads.prepareTargets(
      tj.images.map((im) => ({ boxes: im.boxes, labels: im.labels, masks: im.masks.map((m) => (m ? Uint8Array.from(m) : null)), classLabel: im.classLabel })),
      [H, W],
    );
    const params = model.optimParams();
    const { value, grads } = tf.variableGrads(() => {
      const r = model.lossFor(x, prepared, true);
      tsParts = Object.fromEntries(Object.entries(r.parts).map(([k, v]) => [k, v.dataSync()[0]]));
      return r.total;
    }, params.map((p) => p.variable));
    tsParts.total = value.dataSync()[0];
    value.dispose();
    // gradients in the PyTorch layout, as the weights are saved
    const layouts = new Map<string, 'plain' | 'linear' | 'conv'>([...model.hst.store.entries.values()].map((e) => [e.name, e.layout]));
    for (const p of model.heads.params()) layouts.set(p.name, p.layout);
    for (const p of params) {
      const g = grads[p.variable.name];
      tsGrads.set(p.name, toTorchValues(Float32Array.from(g.dataSync() as Float32Array), g.shape, layouts.get(p.name)!));
    }
    tsNorm = globalNorm(grads);
    const opt = new AdamW(params, { lr: LR, weightDecay: 0.05, beta2: BETA2 });
    opt.applyGradients(grads, LR, clipCoefficient(tsNorm, 1));
    tf.dispose(Object.values(grads));
    opt.dispose();
    x.dispose();
    for (const [k, t] of model.exportTensors()) ts.set(`after.${k}`, toFloat32(t, k));

    const r = runPython(['-m', 'hst_trainer.parity', '--weights', saved.weights, '--spec', saved.spec, '--inputs', join(dir, 'inputs.safetensors'),
      '--targets', join(dir, 'targets.json'), '--lr', String(LR), '--beta2', String(BETA2), '--out', join(dir, 'py.safetensors')]);
    if (r.code !== 0) throw new Error(`python parity script failed (${r.code}): ${r.stderr || r.error}`);
    const f = await readSafetensors(join(dir, 'py.safetensors'));
    py = new Map([...f.tensors].map(([k, t]) => [k, t.dtype === 'F64' ? Float32Array.from(new Float64Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength))) : toFloat32(t, k)]));
    pyShapes = new Map([...f.tensors].map(([k, t]) => [k, t.shape]));
  }, 300_000);

  afterAll(() => model?.dispose());

  it('every head\'s raw outputs agree (rel. error < 1e-4)', () => {
    const names = [...ts.keys()].filter((k) => k.startsWith('raw.'));
    expect(names.sort()).toEqual(['raw.cls_logits', 'raw.det_box', 'raw.det_cls', 'raw.det_ctr', 'raw.mask_feats', 'raw.mask_params', 'raw.sem_logits', 'raw.stage1', 'raw.stage2', 'raw.stage3', 'raw.stage4']);
    for (const k of names) {
      expect(py.has(k), k).toBe(true);
      expect(py.get(k)!.length, k).toBe(ts.get(k)!.length);
      const e = relErr(py.get(k)!, ts.get(k)!);
      console.log(`${k} [${pyShapes.get(k)}] rel. error ${e.toExponential(2)}`);
      expect(e, k).toBeLessThan(1e-4);
    }
  });

  it('the loss parts of one batch with the same targets agree', () => {
    expect(Object.keys(tsParts).sort()).toEqual(['cls_ce', 'det_box', 'det_cls', 'det_ctr', 'mask_dice', 'sem_ce', 'total']);
    for (const [k, v] of Object.entries(tsParts)) {
      const p = py.get(`loss.${k}`)![0];
      console.log(`loss ${k}: studio ${v.toFixed(6)} pytorch ${p.toFixed(6)}`);
      expect(Math.abs(p - v) / Math.max(Math.abs(v), 1e-6), k).toBeLessThan(1e-4);
    }
  });

  it('gradients and the weights after one clipped AdamW step agree', () => {
    expect(Math.abs(py.get('grad_norm')![0] - tsNorm) / tsNorm).toBeLessThan(1e-4);
    let worstGrad = 0;
    let worstGradName = '';
    for (const [name, g] of tsGrads) {
      const pg = py.get(`grad.${name}`);
      expect(pg, name).toBeDefined();
      const e = relErr(pg!, g);
      // parameters whose gradient is all but zero (e.g. a ViT LayerNorm far from any loss) compare absolutely
      const gn = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      if (e > 1e-3) console.log(`grad ${name} rel ${e.toExponential(2)} norm ${gn.toExponential(2)} / ${tsNorm.toExponential(2)}`);
      if (gn > 1e-6 * tsNorm && e > worstGrad) [worstGrad, worstGradName] = [e, name];
    }
    console.log(`worst per-parameter gradient rel. error ${worstGrad.toExponential(2)} (${worstGradName})`);
    expect(worstGrad).toBeLessThan(1e-3);
    let worstW = 0;
    let worstName = '';
    const afterNames = [...ts.keys()].filter((k) => k.startsWith('after.'));
    for (const k of afterNames) {
      expect(py.has(k), k).toBe(true);
      const e = relErr(py.get(k)!, ts.get(k)!);
      if (e > worstW) [worstW, worstName] = [e, k];
    }
    console.log(`weights after one step: worst rel. error ${worstW.toExponential(2)} (${worstName}), ${afterNames.length} tensors`);
    expect(worstW).toBeLessThan(1e-4);
  });
});
