import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { convSame } from '../../../src-main/core/heads/layers/conv';
import { GroupNorm, pickGroups } from '../../../src-main/core/heads/layers/norm';
import { fromTorchLayout, ParamStore, toTorchLayout } from '../../../src-main/core/heads/layers/params';
import { bilinearMatrix, resizeBilinear, resizeNearest } from '../../../src-main/core/heads/layers/resize';
import { setupTf } from './helpers/tf-setup';

beforeAll(setupTf);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('conv (custom gradient)', () => {
  it('forward and both gradients match tf.conv2d with its native gradient', () => {
    const x = tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const up = tf.randomNormal([2, 5, 6, 4], 0, 1, 'float32', 3);
    const ours = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(convSame(a as tf.Tensor4D, b, null), up));
    const ref = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), up));
    expect(maxAbsDiff(convSame(x, w, null), tf.conv2d(x, w, 1, 'same'))).toBeLessThan(1e-4);
    const [gx, gw] = tf.grads(ours)([x, w]);
    const [rx, rw] = tf.grads(ref)([x, w]);
    expect(maxAbsDiff(gx, rx)).toBeLessThan(1e-3);
    expect(maxAbsDiff(gw, rw)).toBeLessThan(1e-3);
    // 1×1 path
    const w1 = tf.randomNormal([1, 1, 3, 4], 0, 1, 'float32', 4);
    expect(maxAbsDiff(convSame(x, w1, null), tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'))).toBeLessThan(1e-4);
  });
});

describe('GroupNorm', () => {
  it('normalises each (image, group) to mean 0 / var 1 and picks sensible group counts', () => {
    expect(pickGroups(256)).toBe(32);
    expect(pickGroups(32)).toBe(8);
    expect(pickGroups(6)).toBe(1);
    const store = ParamStore.create('t');
    const gn = new GroupNorm(store, 4, 2);
    const x = tf.randomNormal([1, 3, 3, 4], 5, 3, 'float32', 9) as tf.Tensor4D;
    const y = gn.apply(x);
    const g0 = tf.slice(y, [0, 0, 0, 0], [1, 3, 3, 2]);
    const { mean, variance } = tf.moments(g0);
    expect(mean.dataSync()[0]).toBeCloseTo(0, 4);
    expect(variance.dataSync()[0]).toBeCloseTo(1, 3);
    store.dispose();
  });
});

describe('bilinear resize', () => {
  it('equals tf.image.resizeBilinear with half-pixel centres (PyTorch align_corners=False)', () => {
    const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    expect(maxAbsDiff(resizeBilinear(x, 16, 20), tf.image.resizeBilinear(x, [16, 20], false, true))).toBeLessThan(1e-5);
    expect(maxAbsDiff(resizeBilinear(x, 7, 3), tf.image.resizeBilinear(x, [7, 3], false, true))).toBeLessThan(1e-5);
  });
  it('interpolation rows sum to 1', () => {
    const m = bilinearMatrix(3, 12);
    for (let o = 0; o < 12; o++) expect(m.subarray(o * 3, o * 3 + 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});

describe('nearest upsampling', () => {
  it('repeats pixels like PyTorch nearest for 2× and ceil-rounded sizes, with a per-image gradient', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60], [2, 2, 3, 1]);
    const up = resizeNearest(x, 4, 6);
    expect(Array.from(up.dataSync().slice(0, 12))).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    // 2×3 → 3×5: PyTorch picks rows floor(i·2/3) = 0,0,1 and columns floor(j·3/5) = 0,0,1,1,2
    const odd = resizeNearest(x, 3, 5);
    expect(Array.from(odd.dataSync().slice(0, 15))).toEqual([1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6]);
    // gradient: each input pixel receives the sum of its 2×2 block, image by image
    const w = tf.tensor4d(Array.from({ length: 48 }, (_, i) => i), [2, 4, 6, 1]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(resizeNearest(v as tf.Tensor4D, 4, 6), w)))(tf.ones([2, 2, 3, 1]));
    const gd = g.dataSync();
    expect(gd[0]).toBe(0 + 1 + 6 + 7);
    expect(gd[6]).toBe(24 + 25 + 30 + 31);
  });
});

describe('parameter store', () => {
  it('keeps checkpoint names, torch shapes and layout round trips; rejects duplicates', () => {
    const store = ParamStore.create('heads', 1);
    const v = store.scope('det').scope('cls_logits').add('weight', [3, 3, 8, 5], { kind: 'normal', std: 0.01 }, 'conv');
    const p = store.all()[0];
    expect(p.name).toBe('heads.det.cls_logits.weight');
    expect(p.torchShape).toEqual([5, 8, 3, 3]);
    const torch = toTorchLayout(p);
    expect(torch.shape).toEqual([5, 8, 3, 3]);
    expect(maxAbsDiff(fromTorchLayout('conv', torch), v)).toBe(0);
    expect(() => store.scope('det').scope('cls_logits').add('weight', [1], { kind: 'const', value: 0 }, 'plain')).toThrow(/defined twice/);
    // same seed and name → same init; another store's variables do not clash in tfjs's global registry
    const other = ParamStore.create('heads', 1);
    const v2 = other.scope('det').scope('cls_logits').add('weight', [3, 3, 8, 5], { kind: 'normal', std: 0.01 }, 'conv');
    expect(maxAbsDiff(v, v2)).toBe(0);
    store.dispose();
    other.dispose();
  });
});
