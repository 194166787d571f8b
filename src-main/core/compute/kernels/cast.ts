// Cast to the dtype a tensor already has, without a copy. tfjs's Multiply gradient casts the other operand to
// float32 whether or not it is float32 already, and the stock wasm kernel copies it each time (~20 ms per
// training step of the demo plan). Tensor data is immutable, so the result can share it, as Reshape does.
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { aliasOf, stockKernel, type ExtraKernel } from './kernel-util';

export const cast: ExtraKernel = {
  kernelName: 'Cast',
  replaces: true,
  kernelFunc: (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as { dtype: string };
    if (dtype !== x.dtype || x.dtype === 'string') return stockKernel('Cast')!.kernelFunc(args);
    return aliasOf(x, args.backend as KernelBackend);
  },
};
