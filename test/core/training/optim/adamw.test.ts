import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/core/compute/engine';
import { AdamW, defaultDecay, momentKey, OPTIM_STEP_KEY } from '../../../../src-main/core/training/optim/adamw';
import { setupTf } from '../../heads/helpers/tf-setup';

beforeAll(setupTf);

/** Float64 reference of PyTorch's AdamW for one parameter vector. */
function referenceAdamW(
  p0: number[],
  grads: number[][],
  lrs: number[],
  o: { b1: number; b2: number; eps: number; wd: number; decay: boolean },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    const lr = lrs[k];
    for (let i = 0; i < p.length; i++) {
      if (o.decay) p[i] *= 1 - lr * o.wd;
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - o.b2 ** t) + o.eps;
      p[i] -= (lr / (1 - o.b1 ** t)) * (m[i] / denom);
    }
  });
  return p;
}

describe('AdamW', () => {
  it('decay rule: none for 1-D params and biases, on for matrices and 3-D MetaT', () => {
    expect(defaultDecay('heads.det.cls_tower.0.weight', [3, 3, 8, 8])).toBe(true);
    expect(defaultDecay('heads.det.cls_tower.0.bias', [8])).toBe(false);
    expect(defaultDecay('heads.det.cls_tower.1.weight', [8])).toBe(false); // GroupNorm γ
    expect(defaultDecay('m_embeddings.0', [1, 1, 768])).toBe(true);
    expect(defaultDecay('T_Bridge_1.bias', [4, 4])).toBe(false);
  });

  it('matches a hand-rolled float64 reference over 5 steps with changing lr', () => {
    const w0 = [0.5, -1.2, 2.0, 0.01];
    const b0 = [0.3, -0.7];
    const w = tf.variable(tf.tensor2d(w0, [2, 2]), true, 'optim-test-w');
    const b = tf.variable(tf.tensor1d(b0), true, 'optim-test-b');
    const opt = new AdamW(
      [
        { name: 'layer.weight', variable: w },
        { name: 'layer.bias', variable: b },
      ],
      { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 },
    );
    expect(opt.decayed()).toEqual(['layer.weight']);
    const gw = [
      [0.1, -0.2, 0.3, 0.0],
      [1.0, 0.5, -0.5, 2.0],
      [-0.3, 0.2, 0.1, -0.1],
      [0.0, 0.0, 0.0, 0.0],
      [5.0, -5.0, 0.01, 0.2],
    ];
    const gb = [
      [0.2, -0.1],
      [0.0, 1.0],
      [0.4, 0.4],
      [-1.0, 0.3],
      [0.05, 0.0],
    ];
    const lrs = [0.01, 0.02, 0.015, 0.005, 0.03];
    for (let k = 0; k < 5; k++) {
      const grads = { [w.name]: tf.tensor2d(gw[k], [2, 2]), [b.name]: tf.tensor1d(gb[k]) };
      opt.applyGradients(grads, lrs[k]);
      Object.values(grads).forEach((g) => g.dispose());
    }
    const refW = referenceAdamW(w0, gw, lrs, { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decay: true });
    const refB = referenceAdamW(b0, gb, lrs, { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decay: false });
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(refW[i], 5));
    Array.from(b.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(refB[i], 5));
    // The decayed and non-decayed results must differ from each other's rule (guards against decay being ignored).
    const wrong = referenceAdamW(w0, gw, lrs, { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decay: false });
    expect(Math.abs(w.dataSync()[2] - wrong[2])).toBeGreaterThan(1e-4);
    expect(opt.step).toBe(5);
    opt.dispose();
    w.dispose();
    b.dispose();
  });

  it('export → import into a fresh optimizer continues exactly like an uninterrupted run', () => {
    const init = [1, 2, 3];
    const grads = [
      [0.1, 0.2, -0.3],
      [0.5, -0.5, 0.5],
      [1, 1, 1],
      [-0.2, 0.1, 0.0],
    ];
    const run = (split: boolean): number[] => {
      let p = tf.variable(tf.tensor2d(init, [1, 3]), true);
      let opt = new AdamW([{ name: 'p.weight', variable: p }], { weightDecay: 0.05 });
      for (let k = 0; k < grads.length; k++) {
        if (split && k === 2) {
          const state = opt.exportState();
          const values = p.clone();
          opt.dispose();
          p.dispose();
          p = tf.variable(values, true);
          values.dispose();
          opt = new AdamW([{ name: 'p.weight', variable: p }], { weightDecay: 0.05 });
          opt.importState(state);
          Object.values(state).forEach((t) => t.dispose());
        }
        const g = tf.tensor2d(grads[k], [1, 3]);
        opt.applyGradients({ [p.name]: g }, 0.01);
        g.dispose();
      }
      const out = Array.from(p.dataSync());
      opt.dispose();
      p.dispose();
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('state names, missing entries and shape mismatches give clear errors', () => {
    const p = tf.variable(tf.zeros([2, 2]), true);
    const opt = new AdamW([{ name: 'x.weight', variable: p }]);
    const st = opt.exportState();
    expect(Object.keys(st).sort()).toEqual([OPTIM_STEP_KEY, momentKey('x.weight', 'exp_avg'), momentKey('x.weight', 'exp_avg_sq')].sort());
    const bad = { ...st, [momentKey('x.weight', 'exp_avg')]: tf.zeros([3]) };
    expect(() => opt.importState(bad)).toThrow(/optim\.exp_avg\.x\.weight has shape \[3\], expected \[2,2\]/);
    const missing = { [OPTIM_STEP_KEY]: st[OPTIM_STEP_KEY] };
    expect(() => opt.importState(missing)).toThrow(/missing optim\.exp_avg\.x\.weight/);
    expect(() => opt.applyGradients({ nope: tf.zeros([1]) })).toThrow(/not in its parameter list/);
    opt.dispose();
  });

  it('leaves parameters without a gradient untouched and leaks no tensors', () => {
    const a = tf.variable(tf.ones([2, 2]), true);
    const c = tf.variable(tf.ones([2, 2]), true);
    const opt = new AdamW([
      { name: 'a.weight', variable: a },
      { name: 'c.weight', variable: c },
    ]);
    const g = tf.ones([2, 2]);
    opt.applyGradients({ [a.name]: g });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) opt.applyGradients({ [a.name]: g });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(c.dataSync())).toEqual([1, 1, 1, 1]);
    expect(a.dataSync()[0]).toBeLessThan(1);
    opt.dispose();
  });
});
