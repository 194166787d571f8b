// Replacement SplitV (tf.split) for wasm: the stock kernel calls the stock slice, which copies the
// whole input once per piece; each piece here costs only its own size.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel, type ExtraKernel } from './kernel-util';
import { sliceHeap } from './slice';

export const splitV: ExtraKernel = {
  kernelName: 'SplitV',
  replaces: true,
  kernelFunc: (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return stockKernel('SplitV')!.kernelFunc(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[ax] = s;
      const piece = sliceHeap(x, begin.slice(), size, args.backend as KernelBackend);
      begin[ax] += s;
      return piece;
    });
  },
};
