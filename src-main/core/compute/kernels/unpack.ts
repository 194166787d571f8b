// Replacement Unpack (tf.unstack) for wasm: one O(output) slice per piece instead of the stock
// slice's whole-input copy per piece.
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel, type ExtraKernel } from './kernel-util';
import { sliceHeap } from './slice';

export const unpack: ExtraKernel = {
  kernelName: 'Unpack',
  replaces: true,
  kernelFunc: (args) => {
    const value = args.inputs.value as TensorInfo;
    if (value.dtype === 'string') return stockKernel('Unpack')!.kernelFunc(args);
    const rank = value.shape.length;
    let axis = (args.attrs as { axis: number }).axis;
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = value.shape.slice();
    size[axis] = 1;
    const begin = new Array<number>(rank).fill(0);
    const outs: TensorInfo[] = [];
    for (let i = 0; i < value.shape[axis]; i++) {
      begin[axis] = i;
      // Same bytes, one axis fewer: the piece is re-labelled rather than reshaped.
      const piece = sliceHeap(value, begin.slice(), size, args.backend as KernelBackend);
      outs.push({ dataId: piece.dataId, dtype: piece.dtype, shape: outShape });
    }
    return outs;
  },
};
