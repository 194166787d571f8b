// The fused LayerNorm/GroupNorm kernel and its gradient against the same norms composed from tfjs ops
// (tf.moments), on wasm and on cpu: outputs and the gradients for x, gamma and beta, for LayerNorm rows and
// GroupNorm maps, including a group of one channel and one position. Also: no tensor leaks in eval mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { fusedNorm, hasFusedNorm } from '../../../../src-main/core/compute/kernels/fused-norm';

function composed(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number, spatial: number, groups: number): tf.Tensor {
  const C = x.shape[x.shape.length - 1];
  const B = x.size / (spatial * C);
  const xg = tf.reshape(x, [B, spatial, groups, C / groups]);
  const { mean, variance } = tf.moments(xg, [1, 3], true);
  const xn = tf.reshape(tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, eps))), x.shape);
  return tf.add(tf.mul(xn, g), b);
}

function rand(shape: number[], seed: number, scale = 1, shift = 0): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale), shift));
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0]));
}

const CASES: { name: string; shape: number[]; spatial: (s: number[]) => number; groups: number; eps: number }[] = [
  { name: 'LayerNorm rows [3, 7, 24]', shape: [3, 7, 24], spatial: () => 1, groups: 1, eps: 1e-6 },
  { name: 'GroupNorm map [2, 5, 6, 16], 4 groups', shape: [2, 5, 6, 16], spatial: (s) => s[1] * s[2], groups: 4, eps: 1e-5 },
  { name: 'GroupNorm, one channel per group', shape: [2, 3, 3, 8], spatial: (s) => s[1] * s[2], groups: 8, eps: 1e-5 },
  { name: 'GroupNorm on a 1×1 map', shape: [4, 1, 1, 12], spatial: () => 1, groups: 3, eps: 1e-5 },
];

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused norm on ${backend}`, () => {
    beforeAll(async () => {
      const info = await initCompute({ backend });
      expect(info.backend).toBe(backend);
      expect(hasFusedNorm()).toBe(false); // inference: composed ops
      let onTape = false;
      tf.grad((x: tf.Tensor) => {
        onTape = hasFusedNorm();
        return tf.sum(x);
      })(tf.ones([1]));
      expect(onTape).toBe(true); // training
      expect(info.extraKernels).toContain('HstNorm');
    });
    afterAll(async () => {
      await initCompute({ backend: 'wasm' });
    });

    for (const c of CASES) {
      it(`${c.name}: output and gradients match the composed ops`, () => {
        const x = rand(c.shape, 1, 3, 0.5); // offset and scale: the mean/variance paths matter
        const C = c.shape.at(-1)!;
        const g = rand([C], 2, 0.5, 1);
        const b = rand([C], 3, 0.5);
        const dy = rand(c.shape, 4);
        const sp = c.spatial(c.shape);
        const f = (fn: typeof fusedNorm) => tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(fn(xx, gg, bb, c.eps, sp, c.groups), dy)));
        const yF = fusedNorm(x, g, b, c.eps, sp, c.groups);
        const yC = composed(x, g, b, c.eps, sp, c.groups);
        expect(yF.shape).toEqual(c.shape);
        expect(relErr(yF, yC)).toBeLessThan(1e-5);
        const gF = f(fusedNorm)([x, g, b]);
        const gC = f(composed)([x, g, b]);
        for (let i = 0; i < 3; i++) expect(relErr(gF[i], gC[i]), ['dx', 'dgamma', 'dbeta'][i]).toBeLessThan(1e-5);
        tf.dispose([x, g, b, dy, yF, yC, ...gF, ...gC]);
      });
    }

    it('leaves no tensors behind outside a gradient tape', () => {
      const x = rand([2, 4, 8], 5);
      const g = tf.ones([8]);
      const b = tf.zeros([8]);
      const before = tf.memory().numTensors;
      const y = fusedNorm(x, g, b, 1e-5, 1, 1);
      expect(tf.memory().numTensors).toBe(before + 1);
      tf.dispose([x, g, b, y]);
    });

    it('gradients for only some inputs: the right values, and nothing left behind across steps', () => {
      // each gradient is its own kernel call: only the ones asked for are computed, and nothing is left behind
      const x = rand([2, 3, 3, 8], 7, 2, 0.3);
      const g = rand([8], 8, 0.5, 1);
      const b = rand([8], 9, 0.5);
      const dy = rand([2, 3, 3, 8], 10);
      const loss = (fn: typeof fusedNorm, xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(fn(xx, gg, bb, 1e-5, 9, 2), dy)) as tf.Scalar;
      const subsets: [string, (fn: typeof fusedNorm) => tf.Tensor[]][] = [
        ['gamma only', (fn) => [tf.grad((gg: tf.Tensor) => loss(fn, x, gg, b))(g)]],
        ['beta only', (fn) => [tf.grad((bb: tf.Tensor) => loss(fn, x, g, bb))(b)]],
        ['x and beta', (fn) => tf.grads((xx: tf.Tensor, bb: tf.Tensor) => loss(fn, xx, g, bb))([x, b])],
      ];
      for (const [name, run] of subsets) {
        const want = run(composed);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) tf.dispose(run(fusedNorm));
        expect(tf.memory().numTensors, name).toBe(before);
        const got = run(fusedNorm);
        got.forEach((t, i) => expect(relErr(t, want[i]), `${name} [${i}]`).toBeLessThan(1e-5));
        tf.dispose([...got, ...want]);
      }
      tf.dispose([x, g, b, dy]);
    });

    it('shared gamma/beta (one norm applied to several maps): gradients add up and nothing leaks', () => {
      // FCOS towers share their GroupNorms across pyramid levels: the tape sums the per-use gradients
      const x1 = rand([2, 3, 3, 8], 11, 2);
      const x2 = rand([2, 2, 2, 8], 12, 2);
      const g = rand([8], 13, 0.5, 1);
      const b = rand([8], 14, 0.5);
      const loss = (fn: typeof fusedNorm) => (gg: tf.Tensor, bb: tf.Tensor) =>
        tf.add(tf.sum(tf.square(fn(x1, gg, bb, 1e-5, 9, 2))), tf.sum(tf.mul(fn(x2, gg, bb, 1e-5, 4, 2), 3))) as tf.Scalar;
      const want = tf.grads(loss(composed))([g, b]);
      tf.dispose(tf.grads(loss(fusedNorm))([g, b]));
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(tf.grads(loss(fusedNorm))([g, b]));
      expect(tf.memory().numTensors).toBe(before);
      const got = tf.grads(loss(fusedNorm))([g, b]);
      got.forEach((t, i) => expect(relErr(t, want[i]), ['dgamma', 'dbeta'][i]).toBeLessThan(1e-5));
      tf.dispose([x1, x2, g, b, ...want, ...got]);
    });

    it('rejects channels that do not split into the groups', () => {
      const x = rand([1, 2, 2, 6], 6);
      expect(() => fusedNorm(x, tf.ones([6]), tf.zeros([6]), 1e-5, 4, 4)).toThrow(/6 channels do not split into 4 groups/);
      x.dispose();
    });
  });
}
