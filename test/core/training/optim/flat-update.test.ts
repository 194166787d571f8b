// The optimizer step over a range of flat parameters (what each gradient helper runs on its range): ranges add
// up to the whole step float for float, the moving average follows each parameter's update, parameters already
// at the step are left alone (a helper that stopped part-way), and the ranges split the floats evenly.
import { describe, expect, it } from 'vitest';
import { splitParams, updateParams, type FlatOptimState, type FlatStep } from '../../../../src-main/core/training/optim/flat-update';

const sizes = [5, 1, 12, 3, 7];
const entries = sizes.map((size, k) => ({ name: `p${k}`, offset: sizes.slice(0, k).reduce((a, b) => a + b, 0), size }));
const total = sizes.reduce((a, b) => a + b, 0);
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 13.7) * 0.5);

function fresh(): { state: FlatOptimState; weights: Float32Array } {
  return {
    state: { entries, decay: [true, false, true, false, true], m: rand(total, 1).map((x) => x * 0.1), v: rand(total, 2).map((x) => x * x), ema: rand(total, 3), done: new Int32Array(sizes.length) },
    weights: rand(total, 4),
  };
}

const grads = rand(total, 5);
// parameter 3 has no gradient this step
const grad = (k: number, out: Float32Array) => (k === 3 ? null : (out.set(grads.subarray(entries[k].offset, entries[k].offset + entries[k].size)), out.subarray(0, entries[k].size)));
const step: FlatStep = { t: 3, lr: 0.01, gradScale: 0.5, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05, emaDecay: 0.9 };
const scratch = () => new Float32Array(12);

describe('updateParams', () => {
  it('gives the same floats over ranges as over all parameters at once', () => {
    const a = fresh();
    updateParams(a.state, a.weights, grad, 0, sizes.length, step, scratch());
    const b = fresh();
    updateParams(b.state, b.weights, grad, 0, 2, step, scratch());
    updateParams(b.state, b.weights, grad, 2, sizes.length, step, scratch());
    expect(b.weights).toEqual(a.weights);
    expect(b.state.m).toEqual(a.state.m);
    expect(b.state.v).toEqual(a.state.v);
    expect(b.state.ema).toEqual(a.state.ema);
    expect([...a.state.done]).toEqual([3, 3, 3, 3, 3]);
  });

  it('does AdamW with decoupled decay where asked, then folds the new weights into the average', () => {
    const before = fresh();
    const a = fresh();
    updateParams(a.state, a.weights, grad, 0, sizes.length, step, scratch());
    const j = entries[2].offset + 4; // a decayed parameter's weight
    const g = grads[j] * step.gradScale;
    const m = Math.fround(0.9 * before.state.m[j] + 0.1 * g);
    const v = Math.fround(0.99 * before.state.v[j] + 0.01 * g * g);
    const p = Math.fround(before.weights[j] * (1 - step.lr * step.weightDecay) - ((step.lr / (1 - 0.9 ** 3)) * m) / (Math.sqrt(v) / Math.sqrt(1 - 0.99 ** 3) + 1e-8));
    expect(a.state.m[j]).toBe(m);
    expect(a.state.v[j]).toBe(v);
    expect(a.weights[j]).toBe(p);
    expect(a.state.ema![j]).toBe(Math.fround(0.9 * before.state.ema![j] + 0.1 * p));
    // no gradient: the weights and moments stay, the average still moves toward them
    const k = entries[3].offset;
    expect(a.weights[k]).toBe(before.weights[k]);
    expect(a.state.m[k]).toBe(before.state.m[k]);
    expect(a.state.ema![k]).toBe(Math.fround(0.9 * before.state.ema![k] + 0.1 * before.weights[k]));
  });

  it('leaves parameters already at this step as they are (a helper stopped part-way; the trainer finishes)', () => {
    const a = fresh();
    updateParams(a.state, a.weights, grad, 0, 2, step, scratch()); // the "helper" did parameters 0 and 1
    const half = Float32Array.from(a.weights);
    updateParams(a.state, a.weights, grad, 0, sizes.length, step, scratch()); // the trainer redoes the range
    const whole = fresh();
    updateParams(whole.state, whole.weights, grad, 0, sizes.length, step, scratch());
    expect(a.weights).toEqual(whole.weights);
    expect(a.weights.subarray(0, 6)).toEqual(half.subarray(0, 6));
  });

  it('refuses a gradient of the wrong size', () => {
    const a = fresh();
    expect(() => updateParams(a.state, a.weights, () => new Float32Array(2), 0, 1, step, scratch())).toThrow('AdamW: the gradient of p0 has 2 values, expected 5');
  });
});

describe('splitParams', () => {
  it('splits into contiguous ranges covering every parameter, about equal in floats', () => {
    const e = [100, 1, 1, 50, 50, 1, 97].map((size) => ({ size }));
    const r = splitParams(e, 2);
    expect(r).toEqual([[0, 4], [4, 7]]);
    const floats = r.map(([a, b]) => e.slice(a, b).reduce((s, x) => s + x.size, 0));
    expect(floats).toEqual([152, 148]);
    const three = splitParams(e, 3);
    expect(three[0][0]).toBe(0);
    expect(three.at(-1)![1]).toBe(e.length);
    for (let i = 1; i < three.length; i++) expect(three[i][0]).toBe(three[i - 1][1]);
  });

  it('gives fewer ranges than workers when there are fewer parameters, never an empty one', () => {
    expect(splitParams([{ size: 4 }], 2)).toEqual([[0, 1]]);
    expect(splitParams([{ size: 4 }, { size: 9 }], 3)).toEqual([[0, 1], [1, 2]]);
  });
});
