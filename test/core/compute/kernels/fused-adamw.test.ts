// The fused AdamW kernel against the same update composed from tfjs ops, on wasm and cpu: with and without
// weight decay, a clipping scale, and a later step (bias corrections near 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { fusedAdamW, hasFusedAdamW, type AdamWKernelAttrs } from '../../../../src-main/core/compute/kernels/fused-adamw';

function composed(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamWKernelAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const gs = tf.mul(g, a.gradScale);
    const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(gs, 1 - a.beta1));
    const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(gs), 1 - a.beta2));
    const p2 = tf.sub(tf.mul(p, a.decayFactor), tf.mul(tf.div(m2, tf.add(tf.div(tf.sqrt(v2), a.sqrtBc2), a.eps)), a.stepSize));
    return [p2, m2, v2];
  });
}

function maxRel(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]));
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused AdamW on ${backend}`, () => {
    beforeAll(async () => {
      const info = await initCompute({ backend });
      expect(info.backend).toBe(backend);
      expect(hasFusedAdamW()).toBe(true);
      expect(info.extraKernels).toContain('HstAdamW');
    });
    afterAll(async () => {
      await initCompute({ backend: 'wasm' });
    });

    const cases: [string, number, AdamWKernelAttrs][] = [
      ['first step, decayed, clipped', 1, { decayFactor: 1 - 1e-3 * 0.05, beta1: 0.9, beta2: 0.999, stepSize: 1e-3 / (1 - 0.9), sqrtBc2: Math.sqrt(1 - 0.999), eps: 1e-8, gradScale: 0.37 }],
      ['step 500, no decay', 500, { decayFactor: 1, beta1: 0.9, beta2: 0.999, stepSize: 3e-3 / (1 - 0.9 ** 500), sqrtBc2: Math.sqrt(1 - 0.999 ** 500), eps: 1e-8, gradScale: 1 }],
    ];
    for (const [name, seed, attrs] of cases) {
      it(`${name}: p, m, v match the composed update`, () => {
        const p = tf.randomNormal([7, 5], 0, 1, 'float32', seed);
        const g = tf.randomNormal([7, 5], 0, 0.1, 'float32', seed + 1);
        const m = tf.randomNormal([7, 5], 0, 0.01, 'float32', seed + 2);
        const v = tf.abs(tf.randomNormal([7, 5], 0, 1e-4, 'float32', seed + 3));
        const got = fusedAdamW(p, g, m, v, attrs);
        const want = composed(p, g, m, v, attrs);
        for (let i = 0; i < 3; i++) expect(maxRel(got[i], want[i]), ['p', 'm', 'v'][i]).toBeLessThan(1e-6);
        // the update moved p (a kernel that returned its input would pass a loose check)
        expect(maxRel(got[0], p)).toBeGreaterThan(1e-4);
        tf.dispose([p, g, m, v, ...got, ...want]);
      });
    }
  });
}
