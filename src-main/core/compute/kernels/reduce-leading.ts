// Sum and Mean over leading axes for wasm as one XNNPACK product: Σ_r x[r, c] = (1·X)[c] with a row of ones
// (of 1/R for the mean). Every bias gradient is such a sum (over batch and positions, keeping channels), and the
// stock kernel first transposes the reduced axes to the end and then loops in scalar code: on [8, 64, 64, 32] →
// [32] it took 7.0 ms, the product 1.0 ms, a JS loop 5.6 ms (docs/compute.md). Other reductions go to the stock
// kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { compositeKernel, stockKernel, type ExtraKernel } from './kernel-util';

/** Rows R and kept size C when `axes` are exactly the leading ones [0..k-1] and some trailing axis is kept. */
export function leadingSplit(shape: readonly number[], axes: readonly number[]): { rows: number; cols: number } | null {
  const k = axes.length;
  if (k === 0 || k >= shape.length) return null;
  const sorted = [...axes].sort((a, b) => a - b);
  if (!sorted.every((a, i) => a === i)) return null;
  const rows = tf.util.sizeFromShape(shape.slice(0, k));
  const cols = tf.util.sizeFromShape(shape.slice(k));
  return rows >= 2 && cols >= 1 ? { rows, cols } : null;
}

function viaProduct(kernelName: 'Sum' | 'Mean'): KernelFunc {
  // the dispatcher below has already split the shape: it hands `rows`, `cols` and the count of reduced axes over
  const product = compositeKernel(({ x }, attrs) => {
    const { rows, cols, k } = attrs as { rows: number; cols: number; k: number };
    const weights = tf.fill([1, rows], kernelName === 'Mean' ? 1 / rows : 1);
    const r = tf.matMul(weights, tf.reshape(x, [rows, cols]));
    const kept = x.shape.slice(k);
    return tf.reshape(r, attrs.keepDims ? [...Array<number>(k).fill(1), ...kept] : kept);
  });
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const axes = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, x.shape);
    const split = x.dtype === 'float32' ? leadingSplit(x.shape, axes) : null;
    if (!split) return stockKernel(kernelName)!.kernelFunc(args);
    return product({ ...args, attrs: { ...args.attrs, ...split, k: axes.length } });
  };
}

export const sumLeading: ExtraKernel = { kernelName: 'Sum', replaces: true, kernelFunc: viaProduct('Sum') };
export const meanLeading: ExtraKernel = { kernelName: 'Mean', replaces: true, kernelFunc: viaProduct('Mean') };
