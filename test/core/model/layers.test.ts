// Train-mode behaviour: drop-path and BatchNorm running statistics as PyTorch does them.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { batchNorm, dropPath, gelu } from '../../../src-main/core/model/layers';

describe('model layers', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  it('drop-path is the identity in eval mode and drops whole samples in train mode', () => {
    const x = tf.ones([400, 3, 2]);
    expect(dropPath(x, 0.5, false)).toBe(x);
    expect(dropPath(x, 0, true)).toBe(x);
    const y = tf.reshape(dropPath(x, 0.25, true), [400, 6]).arraySync() as number[][];
    let dropped = 0;
    for (const row of y) {
      const v = row[0];
      expect(row.every((r) => r === v)).toBe(true); // per sample, all or nothing
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo(1 / 0.75, 6);
    }
    expect(dropped).toBeGreaterThan(60);
    expect(dropped).toBeLessThan(140);
  });

  it('BatchNorm: batch statistics + running-stat update (momentum 0.1, unbiased variance) in train, running stats in eval', () => {
    const x = tf.tensor2d([[1, 10], [3, 20], [5, 60]]); // per channel: mean 3 / 30, biased var 8/3 / 1400/3
    const running = { mean: tf.variable(tf.tensor1d([0, 0])), variance: tf.variable(tf.tensor1d([1, 1])) };
    const y = batchNorm(x, running, 1e-5, true).arraySync() as number[][];
    expect(y[0][0]).toBeCloseTo((1 - 3) / Math.sqrt(8 / 3 + 1e-5), 5);
    expect(Array.from(running.mean.dataSync())).toEqual([expect.closeTo(0.3, 6), expect.closeTo(3, 5)]);
    // unbiased: 4 and 700 → 0.9·1 + 0.1·v
    expect(Array.from(running.variance.dataSync())).toEqual([expect.closeTo(1.3, 5), expect.closeTo(70.9, 3)]);
    const e = batchNorm(x, running, 1e-5, false).arraySync() as number[][];
    expect(e[0][0]).toBeCloseTo((1 - 0.3) / Math.sqrt(1.3 + 1e-5), 5);
    expect(Array.from(running.mean.dataSync())).toEqual([expect.closeTo(0.3, 6), expect.closeTo(3, 5)]);
  });

  it('GELU is the exact erf form, not the tanh approximation', () => {
    const v = gelu(tf.tensor1d([-3, -1, 0, 0.5, 2])).dataSync();
    // reference values of x·Φ(x)
    const ref = [-0.0040496985, -0.15865525, 0, 0.34573123, 1.9544997];
    ref.forEach((r, i) => expect(v[i]).toBeCloseTo(r, 5));
  });
});
