// UnsortedSegmentSum for wasm (absent from tfjs-backend-wasm 4.22; it is the gradient of gather).
// One pass over the data in the heap, O(input), instead of the cpu backend's O(segments × input).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { ExtraKernel } from './kernel-util';

interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export const unsortedSegmentSum: ExtraKernel = {
  kernelName: 'UnsortedSegmentSum',
  replaces: false,
  kernelFunc: ({ inputs, attrs, backend }) => {
    const be = backend as WasmHeapBackend;
    const x = inputs.x as TensorInfo;
    const ids = inputs.segmentIds as TensorInfo;
    const numSegments = attrs!.numSegments as number;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, not ${x.dtype}.`);
    // segmentIds cover the leading axes of x; each id selects a row of `inner` elements.
    const idRank = ids.shape.length;
    const inner = tf.util.sizeFromShape(x.shape.slice(idRank));
    const out = be.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
    const dst = be.typedArrayFromHeap(out);
    dst.fill(0);
    const src = be.typedArrayFromHeap(x);
    const idVals = be.typedArrayFromHeap(ids);
    const n = tf.util.sizeFromShape(ids.shape);
    for (let i = 0; i < n; i++) {
      const s = idVals[i];
      // Out-of-range ids are dropped, as in TensorFlow.
      if (s < 0 || s >= numSegments) continue;
      const from = i * inner;
      const to = s * inner;
      for (let j = 0; j < inner; j++) dst[to + j] += src[from + j];
    }
    return out;
  },
};
