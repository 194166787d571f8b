// Replacement BatchMatMul for wasm: XNNPACK runs only 2-D, untransposed products; every other case
// (all matmul backward passes, batched attention) falls to a ~3 GFLOP/s scalar loop. We transpose
// explicitly, fold a shared right operand's batch into rows, or loop over batch entries with 2-D
// products, and hand each 2-D product to the stock kernel's fast path.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { compositeKernel, stockKernel, type ExtraKernel } from './kernel-util';

const viaTwoD: KernelFunc = compositeKernel(({ a, b }, attrs) => {
  let a3 = a;
  let b3 = b;
  const ra = a.rank;
  const rb = b.rank;
  const swap = (r: number) => [...Array(r - 2).keys(), r - 1, r - 2];
  if (attrs.transposeA) a3 = tf.transpose(a3, swap(ra));
  if (attrs.transposeB) b3 = tf.transpose(b3, swap(rb));
  const [M, K] = a3.shape.slice(-2);
  const N = b3.shape[rb - 1];
  const batchA = a3.shape.slice(0, -2);
  const batchB = b3.shape.slice(0, -2);
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
  const nA = tf.util.sizeFromShape(batchA);
  const nB = tf.util.sizeFromShape(batchB);
  const nOut = tf.util.sizeFromShape(outBatch);
  let out: tf.Tensor;
  if (nB === 1) {
    // Shared right operand: all of a's batch entries become rows of one 2-D product.
    out = tf.matMul(tf.reshape(a3, [nA * M, K]), tf.reshape(b3, [K, N]));
  } else {
    const a2 = tf.reshape(a3, [nA, M, K]);
    const b2 = tf.reshape(b3, [nB, K, N]);
    const sameBatch = tf.util.arraysEqual(batchA, batchB) || nA === 1;
    const parts: tf.Tensor[] = [];
    for (let i = 0; i < nOut; i++) {
      // Broadcast index: map the output batch index onto each operand's own (possibly size-1) axes.
      const ia = nA === 1 ? 0 : sameBatch ? i : broadcastIndex(i, outBatch, batchA);
      const ib = broadcastIndex(i, outBatch, batchB);
      const ai = tf.reshape(tf.slice(a2, [ia, 0, 0], [1, M, K]), [M, K]);
      const bi = tf.reshape(tf.slice(b2, [ib, 0, 0], [1, K, N]), [K, N]);
      parts.push(tf.matMul(ai, bi));
    }
    out = tf.stack(parts);
  }
  return tf.reshape(out, [...outBatch, M, N]);
});

function broadcastIndex(flat: number, outShape: number[], shape: number[]): number {
  if (shape.length === 0) return 0;
  const outStrides = tf.util.computeStrides(outShape);
  const coords = outShape.map((_, d) => Math.floor((d === outShape.length - 1 ? flat : flat / outStrides[d]) % outShape[d]));
  const own = coords.slice(outShape.length - shape.length).map((c, d) => (shape[d] === 1 ? 0 : c));
  const strides = tf.util.computeStrides(shape);
  return own.reduce((acc, c, d) => acc + c * (d === shape.length - 1 ? 1 : strides[d]), 0);
}

export const batchMatMul: ExtraKernel = {
  kernelName: 'BatchMatMul',
  replaces: true,
  kernelFunc: (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const batch = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape.slice(0, -2));
    const fast = !transposeA && !transposeB && batch(a) === 1 && batch(b) === 1;
    if (fast || a.dtype !== 'float32' || b.dtype !== 'float32') return stockKernel('BatchMatMul')!.kernelFunc(args);
    return viaTwoD(args);
  },
};
