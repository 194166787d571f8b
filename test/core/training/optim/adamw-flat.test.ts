// The flat AdamW (its state and step, run by flat-update.ts's updateParams as the gradient pool runs it) is the
// per-parameter AdamW float for float (same arithmetic as its fused kernel), and the two read each other's
// checkpoint state, so a run resumes with or without gradient helpers.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/core/compute/engine';
import { AdamW, momentKey, OPTIM_STEP_KEY, type OptimParam } from '../../../../src-main/core/training/optim/adamw';
import { FlatAdamW } from '../../../../src-main/core/training/optim/adamw-flat';
import { updateParams } from '../../../../src-main/core/training/optim/flat-update';
import { flatLayout } from '../../../../src-main/core/training/parallel/flat-params';
import { setupTf } from '../../heads/helpers/tf-setup';

beforeAll(setupTf);

let id = 0;
/** A conv-like weight (decayed), a bias (not decayed) and a 3-D token (decayed), seeded. */
function params(seed: number): OptimParam[] {
  const n = ++id;
  return [
    { name: 'head.conv.weight', variable: tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', seed), true, `flat-w${n}`) },
    { name: 'head.conv.bias', variable: tf.variable(tf.randomNormal([4], 0, 1, 'float32', seed + 1), true, `flat-b${n}`) },
    { name: 'm_embeddings.0', variable: tf.variable(tf.randomNormal([1, 1, 6], 0, 1, 'float32', seed + 2), true, `flat-t${n}`) },
  ];
}

/** Step k's gradients, one array per parameter; the bias has none at step 2 (as PyTorch's grad=None). */
function gradsAt(ps: OptimParam[], k: number): (Float32Array | null)[] {
  return ps.map((p, i) => (k === 2 && i === 1 ? null : (tf.randomNormal(p.variable.shape, 0, 1 + k, 'float32', 100 * k + i).dataSync() as Float32Array)));
}

/** One optimizer step over all parameters of `w`, as the gradient pool runs it on the trainer. */
function flatStep(opt: FlatAdamW, w: Float32Array, gs: (Float32Array | null)[], lr: number, gradScale = 1): void {
  const grad = (k: number, out: Float32Array) => (gs[k] ? (out.set(gs[k]!), out.subarray(0, gs[k]!.length)) : null);
  updateParams(opt.state, w, grad, 0, gs.length, opt.begin(lr, gradScale), new Float32Array(w.length));
}

function flatWeights(ps: OptimParam[]): Float32Array {
  const layout = flatLayout(ps);
  const w = new Float32Array(layout.size);
  layout.entries.forEach((e, i) => w.set(ps[i].variable.dataSync(), e.offset));
  return w;
}

const LRS = [1e-2, 5e-3, 2e-3, 1e-3];
const SCALES = [1, 0.5, 1, 0.25];

describe('FlatAdamW', () => {
  it('gives the per-parameter AdamW float for float: decay rule, a missing gradient, clipping scale, changing lr', () => {
    const a = params(7);
    const b = params(7);
    const tensorOpt = new AdamW(a, { weightDecay: 0.1, beta2: 0.99 });
    const flatOpt = new FlatAdamW(b, { weightDecay: 0.1, beta2: 0.99 });
    const w = flatWeights(b);
    const start = Float32Array.from(w);
    LRS.forEach((lr, k) => {
      const gs = gradsAt(a, k);
      const byName: Record<string, tf.Tensor> = {};
      gs.forEach((g, i) => g && (byName[a[i].variable.name] = tf.tensor(g, a[i].variable.shape)));
      tensorOpt.applyGradients(byName, lr, SCALES[k]);
      tf.dispose(Object.values(byName));
      flatStep(flatOpt, w, gs, lr, SCALES[k]);
    });
    expect(flatOpt.step).toBe(4);
    const want = flatWeights(a);
    expect(Array.from(w)).toEqual(Array.from(want)); // bitwise
    expect(w.some((x, i) => Math.abs(x - start[i]) > 1e-3)).toBe(true);
    // and the moments too
    const ts = tensorOpt.exportState();
    const fs = flatOpt.exportState();
    expect(Object.keys(fs).sort()).toEqual(Object.keys(ts).sort());
    for (const k of Object.keys(ts)) expect(Array.from(fs[k].dataSync())).toEqual(Array.from(ts[k].dataSync()));
    tf.dispose([...Object.values(ts), ...Object.values(fs)]);
    tensorOpt.dispose();
  });

  it("continues from the per-parameter AdamW's state and back (a run resumed with or without helpers)", () => {
    const a = params(11);
    const b = params(11);
    const tensorOpt = new AdamW(a, { weightDecay: 0.05 });
    const grads = (k: number) => {
      const gs = gradsAt(a, k);
      const byName: Record<string, tf.Tensor> = {};
      gs.forEach((g, i) => g && (byName[a[i].variable.name] = tf.tensor(g, a[i].variable.shape)));
      return { gs, byName };
    };
    for (const k of [0, 1]) {
      const { byName } = grads(k);
      tensorOpt.applyGradients(byName, LRS[k]);
      tf.dispose(Object.values(byName));
    }
    // b takes a's weights and optimizer state, then both take two more steps
    a.forEach((p, i) => b[i].variable.assign(p.variable));
    const flatOpt = new FlatAdamW(b, { weightDecay: 0.05 });
    const st = tensorOpt.exportState();
    flatOpt.importState(st);
    tf.dispose(Object.values(st));
    expect(flatOpt.step).toBe(2);
    const w = flatWeights(b);
    for (const k of [2, 3]) {
      const { gs, byName } = grads(k);
      tensorOpt.applyGradients(byName, LRS[k]);
      tf.dispose(Object.values(byName));
      flatStep(flatOpt, w, gs, LRS[k]);
    }
    expect(Array.from(w)).toEqual(Array.from(flatWeights(a)));
    // back: a fresh per-parameter AdamW reads the flat one's state
    const back = new AdamW(params(12), {});
    const fs = flatOpt.exportState();
    back.importState(fs);
    const bs = back.exportState();
    for (const k of Object.keys(fs)) expect(Array.from(bs[k].dataSync())).toEqual(Array.from(fs[k].dataSync()));
    tf.dispose([...Object.values(fs), ...Object.values(bs)]);
    tensorOpt.dispose();
    back.dispose();
  });

  it('refuses a state that lacks a parameter or has another shape, and a gradient of the wrong size', () => {
    const ps = params(13);
    const opt = new FlatAdamW(ps);
    const st = opt.exportState();
    const missing = { ...st };
    delete missing[momentKey('head.conv.bias', 'exp_avg_sq')];
    expect(() => opt.importState(missing)).toThrow('Optimizer state is missing optim.exp_avg_sq.head.conv.bias.');
    const { [OPTIM_STEP_KEY]: _step, ...noStep } = st;
    expect(() => opt.importState(noStep)).toThrow(`Optimizer state has no ${OPTIM_STEP_KEY} entry.`);
    const wrong = { ...st, [momentKey('head.conv.bias', 'exp_avg')]: tf.zeros([5]) };
    expect(() => opt.importState(wrong)).toThrow('Optimizer state optim.exp_avg.head.conv.bias has shape [5], expected [4].');
    const short = [new Float32Array(3), new Float32Array(4), new Float32Array(6)];
    expect(() => flatStep(opt, flatWeights(ps), short, 1e-3)).toThrow('AdamW: the gradient of head.conv.weight has 3 values, expected 72');
    expect(() => new FlatAdamW([ps[0], ps[0]])).toThrow('AdamW: parameter head.conv.weight is listed twice.');
    tf.dispose([...Object.values(st), wrong[momentKey('head.conv.bias', 'exp_avg')]]);
  });
});
