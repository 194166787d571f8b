import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/core/compute/engine';
import { warmupCosineLr } from '../../../../src-main/core/training/optim/schedule';
import { clipCoefficient, globalNorm, GradAccumulator } from '../../../../src-main/core/training/optim/clip';
import { setupTf } from '../../heads/helpers/tf-setup';

beforeAll(setupTf);

describe('warm-up + cosine schedule', () => {
  const o = { baseLr: 1e-3, minLr: 1e-5, warmupSteps: 10, warmupInitLr: 1e-7, totalSteps: 110 };
  it('ramps linearly from warmupInitLr, peaks at baseLr, ends at minLr', () => {
    expect(warmupCosineLr(0, o)).toBeCloseTo(1e-7, 12);
    expect(warmupCosineLr(5, o)).toBeCloseTo(1e-7 + (1e-3 - 1e-7) / 2, 12);
    expect(warmupCosineLr(10, o)).toBeCloseTo(1e-3, 12);
    // half-way through the cosine part: the mean of base and min
    expect(warmupCosineLr(60, o)).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
    expect(warmupCosineLr(110, o)).toBeCloseTo(1e-5, 12);
    expect(warmupCosineLr(500, o)).toBeCloseTo(1e-5, 12);
  });
  it('is monotone decreasing after warm-up', () => {
    for (let s = 10; s < 110; s++) expect(warmupCosineLr(s + 1, o)).toBeLessThanOrEqual(warmupCosineLr(s, o));
  });
  it('rejects a non-positive totalSteps', () => {
    expect(() => warmupCosineLr(0, { baseLr: 1, totalSteps: 0 })).toThrow(/totalSteps/);
  });
});

describe('global-norm clipping', () => {
  it('computes √Σg² and scales by maxNorm/(norm+1e-6) only when above', () => {
    const g = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0, 4]]) };
    expect(globalNorm(g)).toBeCloseTo(5, 6);
    expect(clipCoefficient(5, 1)).toBeCloseTo(1 / (5 + 1e-6), 9);
    expect(clipCoefficient(5, 10)).toBe(1);
  });
  it('reports a NaN norm for non-finite gradients', () => {
    expect(Number.isNaN(globalNorm({ a: tf.tensor1d([NaN, 1]) }))).toBe(true);
  });
});

describe('gradient accumulation', () => {
  it('averages micro-batch gradients and frees what it holds', () => {
    const acc = new GradAccumulator();
    const before = tf.memory().numTensors;
    acc.add({ w: tf.tensor1d([1, 2]), b: tf.tensor1d([1]) });
    acc.add({ w: tf.tensor1d([3, 4]), b: tf.tensor1d([3]) });
    acc.add({ w: tf.tensor1d([5, 0]) });
    expect(acc.count).toBe(3);
    const mean = acc.takeMean();
    expect(Array.from(mean.w.dataSync())).toEqual([3, 2]);
    expect(mean.b.dataSync()[0]).toBeCloseTo(4 / 3, 6);
    expect(acc.count).toBe(0);
    Object.values(mean).forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    expect(() => acc.takeMean()).toThrow(/no gradients/);
  });
});
