// Identity (tf.clone) without a copy. The gradient tape clones every tensor a kernel saves for its backward
// pass; the stock wasm kernel copies the data each time (~0.1 s per training step of the demo plan). Tensor
// data is immutable, so the clone can share it under the backend's reference count, as Reshape does and as
// the cpu backend's Identity does.
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { aliasOf, stockKernel, type ExtraKernel } from './kernel-util';

export const identity: ExtraKernel = {
  kernelName: 'Identity',
  replaces: true,
  kernelFunc: (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return stockKernel('Identity')!.kernelFunc(args);
    return aliasOf(x, args.backend as KernelBackend);
  },
};
