import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { allFinite, setupTf } from '../heads/helpers/tf-setup';
import {
  bceWithLogits,
  bceWithLogitsWeighted,
  crossEntropyWithIgnore,
  diceLoss,
  findBadLabel,
  giouLoss,
  giouLossLtrb,
  sigmoidFocalLoss,
  sigmoidFocalLossElementwise,
} from '../../../src-main/core/losses';

beforeAll(setupTf);

const sig = (x: number) => 1 / (1 + Math.exp(-x));


describe('bceWithLogits', () => {
  it('matches −[t·log σ(x) + (1−t)·log(1−σ(x))] and stays finite for huge logits', () => {
    const xs = [-3, -0.5, 0, 0.7, 4];
    const ts = [0, 1, 0.5, 1, 0];
    const got = bceWithLogits(tf.tensor1d(xs), tf.tensor1d(ts)).dataSync();
    xs.forEach((x, i) => {
      const p = sig(x);
      const want = -(ts[i] * Math.log(p) + (1 - ts[i]) * Math.log(1 - p));
      expect(got[i]).toBeCloseTo(want, 5);
    });
    const big = bceWithLogits(tf.tensor1d([1000, -1000]), tf.tensor1d([0, 1])).dataSync();
    expect(big[0]).toBeCloseTo(1000, 3);
    expect(big[1]).toBeCloseTo(1000, 3);
  });

  it('weighted mean over zero positives is 0 with finite gradients', () => {
    const x = tf.tensor1d([0.3, -2]);
    const g = tf.grad((v: tf.Tensor) => bceWithLogitsWeighted(v, tf.zeros([2]), tf.zeros([2]), 0))(x);
    expect(bceWithLogitsWeighted(x, tf.zeros([2]), tf.zeros([2]), 0).dataSync()[0]).toBe(0);
    expect(allFinite(g)).toBe(true);
  });
});

describe('sigmoid focal loss', () => {
  it('equals the hand formula α_t (1−p_t)^γ · CE', () => {
    const x = [2, -1, 0.25];
    const t = [1, 0, 0];
    const got = sigmoidFocalLossElementwise(tf.tensor1d(x), tf.tensor1d(t)).dataSync();
    // element 0: positive, p = σ(2) = 0.880797, p_t = p; α_t = 0.25
    const p0 = sig(2);
    expect(got[0]).toBeCloseTo(0.25 * (1 - p0) ** 2 * -Math.log(p0), 6);
    // element 1: negative, p = σ(−1) = 0.268941, p_t = 1 − p; α_t = 0.75
    const p1 = sig(-1);
    expect(got[1]).toBeCloseTo(0.75 * p1 ** 2 * -Math.log(1 - p1), 6);
    // element 2: p = σ(0.25); hand: 0.75 · 0.5621765² · 0.8259394 = 0.1957739
    expect(got[2]).toBeCloseTo(0.1957739, 6);
  });

  it('is normalised by #positives (min 1) and gives finite gradients with no positives', () => {
    const logits = tf.tensor2d([[-4.6, -4.6], [-4.6, 1]]);
    const targets = tf.tensor2d([[0, 0], [0, 1]]);
    const sum = tf.sum(sigmoidFocalLossElementwise(logits, targets)).dataSync()[0];
    expect(sigmoidFocalLoss(logits, targets, 4).dataSync()[0]).toBeCloseTo(sum / 4, 6);
    expect(sigmoidFocalLoss(logits, targets, 0).dataSync()[0]).toBeCloseTo(sum, 6);
    const g = tf.grad((v: tf.Tensor) => sigmoidFocalLoss(v, tf.zeros([2, 2]), 0))(logits);
    expect(allFinite(g)).toBe(true);
    // the gradient pushes negatives' logits down
    expect(Array.from(g.dataSync()).every((v) => v > 0)).toBe(true);
  });

  it('γ = 0, α disabled reduces to plain BCE', () => {
    const x = tf.tensor1d([1.5, -0.2]);
    const t = tf.tensor1d([1, 0]);
    const a = sigmoidFocalLossElementwise(x, t, { alpha: -1, gamma: 0 }).dataSync();
    const b = bceWithLogits(x, t).dataSync();
    expect(a[0]).toBeCloseTo(b[0], 6);
    expect(a[1]).toBeCloseTo(b[1], 6);
  });
});

describe('GIoU loss', () => {
  it('identical boxes give 0; disjoint boxes use the enclosing area', () => {
    const a = tf.tensor2d([[0, 0, 2, 2], [0, 0, 1, 1], [0, 0, 2, 2]]);
    const b = tf.tensor2d([[0, 0, 2, 2], [2, 0, 3, 1], [1, 1, 3, 3]]);
    const got = giouLoss(a, b).dataSync();
    expect(got[0]).toBeCloseTo(0, 5);
    // disjoint: IoU 0, union 2, enclosing 3 → GIoU = −1/3 → loss 4/3
    expect(got[1]).toBeCloseTo(4 / 3, 5);
    // overlap 1, union 7, enclosing 9 → GIoU = 1/7 − 2/9 → loss = 1 − 1/7 + 2/9
    expect(got[2]).toBeCloseTo(1 - 1 / 7 + 2 / 9, 5);
  });

  it('ltrb form equals the box form for the shared point', () => {
    const p = tf.tensor2d([[1, 2, 3, 1]]);
    const t = tf.tensor2d([[2, 1, 1, 2]]);
    const viaLtrb = giouLossLtrb(p, t).dataSync()[0];
    const viaBox = giouLoss(tf.tensor2d([[-1, -2, 3, 1]]), tf.tensor2d([[-2, -1, 1, 2]])).dataSync()[0];
    expect(viaLtrb).toBeCloseTo(viaBox, 6);
    // hand: pred 4×3=12, target 3×3=9, inter (min(1,2)+min(3,1))·(min(2,1)+min(1,2)) = 2·2 = 4,
    // union 17, enclosing (2+3)·(2+2) = 20 → 1 − (4/17 − 3/20)
    expect(viaLtrb).toBeCloseTo(1 - (4 / 17 - 3 / 20), 5);
  });

  it('zero-size boxes stay finite (value and gradient)', () => {
    const p = tf.tensor2d([[0, 0, 0, 0]]);
    const t = tf.tensor2d([[0, 0, 0, 0]]);
    expect(allFinite(giouLoss(p, t))).toBe(true);
    const g = tf.grad((v: tf.Tensor) => tf.sum(giouLossLtrb(v, t)))(p);
    expect(allFinite(g)).toBe(true);
  });
});

describe('dice loss', () => {
  it('matches 1 − 2Σpt/(Σp²+Σt²+eps) per instance', () => {
    const p = tf.tensor2d([[1, 0, 0.5, 0.5], [0, 0, 0, 0]]);
    const t = tf.tensor2d([[1, 0, 1, 0], [0, 0, 0, 0]]);
    const got = diceLoss(p, t).dataSync();
    // inter 1.5, Σp² 1.5, Σt² 2 → 1 − 3/3.5
    expect(got[0]).toBeCloseTo(1 - 3 / (3.5 + 1e-5), 5);
    // empty prediction and target: 1 − 0/eps = 1, finite
    expect(got[1]).toBeCloseTo(1, 6);
    const g = tf.grad((v: tf.Tensor) => tf.sum(diceLoss(v as tf.Tensor2D, t)))(p);
    expect(allFinite(g)).toBe(true);
  });
});

describe('cross-entropy with ignore', () => {
  it('averages −log softmax over non-ignored pixels only', () => {
    const logits = tf.tensor3d([[[2, 0, -1], [0, 0, 0], [5, 5, 5]]]); // [1,3,3]
    const labels = tf.tensor2d([[0, 2, 255]], [1, 3], 'int32');
    const got = crossEntropyWithIgnore(logits, labels).dataSync()[0];
    const lse0 = Math.log(Math.exp(2) + 1 + Math.exp(-1));
    const want = ((lse0 - 2) + Math.log(3)) / 2;
    expect(got).toBeCloseTo(want, 5);
  });

  it('all-ignored map gives 0 with finite gradient', () => {
    const logits = tf.randomNormal([1, 2, 2, 4]);
    const labels = tf.fill([1, 2, 2], 255, 'int32');
    expect(crossEntropyWithIgnore(logits, labels).dataSync()[0]).toBe(0);
    const g = tf.grad((v: tf.Tensor) => crossEntropyWithIgnore(v, labels))(logits);
    expect(allFinite(g)).toBe(true);
  });

  it('findBadLabel points at out-of-range labels but accepts the ignore label', () => {
    expect(findBadLabel([0, 1, 255, 2], 3)).toBe(-1);
    expect(findBadLabel([0, 3, 1], 3)).toBe(1);
  });
});
