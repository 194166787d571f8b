// Whole tf.grad computations through conv2d, depthwise conv, gather and batched matmul: wasm (with
// our kernels and the gradient table the engine registers) against the cpu backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { compareBackends, rand } from './helpers/compare';

const TOL = 1e-5;

beforeAll(async () => {
  expect((await initCompute({ backend: 'wasm' })).backend).toBe('wasm');
});

/** Gradients of a scalar loss w.r.t. every input, concatenated into one flat tensor. */
function allGrads(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[]): tf.Tensor {
  const gs = tf.grads(f)(inputs);
  return tf.concat(gs.map((g) => tf.reshape(g, [-1])));
}

describe('tf.grad on wasm matches cpu', () => {
  for (const [s, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const)
    it(`conv2d stride ${s} ${pad}`, async () => {
      const r = await compareBackends(() =>
        allGrads((x, w) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad))), [rand([2, 9, 8, 3], 1), rand([3, 3, 3, 5], 2)]),
      );
      expect(r.relErr).toBeLessThan(TOL);
    });
  for (const [s, m] of [[1, 1], [2, 1], [1, 2]] as const)
    it(`depthwiseConv2d stride ${s} multiplier ${m}`, async () => {
      const r = await compareBackends(() =>
        allGrads((x, w) => tf.sum(tf.square(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same'))), [rand([2, 8, 9, 4], 3), rand([3, 3, 4, m], 4)]),
      );
      expect(r.relErr).toBeLessThan(TOL);
    });
  it('gather (embedding lookup, repeated ids)', async () => {
    const r = await compareBackends(() =>
      allGrads((table) => tf.sum(tf.mul(tf.gather(table, tf.tensor1d([3, 1, 3, 0, 3], 'int32')), rand([5, 6], 5))), [rand([4, 6], 6)]),
    );
    expect(r.relErr).toBeLessThan(TOL);
  });
  it('batched attention-style matmuls', async () => {
    const r = await compareBackends(() =>
      allGrads((q, k, v) => {
        const att = tf.softmax(tf.matMul(q, k, false, true));
        return tf.sum(tf.square(tf.matMul(att, v)));
      }, [rand([2, 3, 5, 4], 7), rand([2, 3, 5, 4], 8), rand([2, 3, 5, 4], 9)]),
    );
    expect(r.relErr).toBeLessThan(TOL);
  });
  it('slice inside a loss', async () => {
    const r = await compareBackends(() => allGrads((x) => tf.sum(tf.square(tf.slice(x, [1, 0, 2], [2, 4, 3]))), [rand([4, 4, 6], 10)]));
    expect(r.relErr).toBeLessThan(TOL);
  });
});
