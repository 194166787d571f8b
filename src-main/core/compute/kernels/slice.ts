// Replacement Slice for wasm: the stock kernel copies the whole input out of the heap (readSync)
// before slicing, so taking one row of a big tensor costs the whole tensor. This one copies only
// the output, as contiguous runs straight from heap to heap.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel, type ExtraKernel } from './kernel-util';

interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export const slice: ExtraKernel = {
  kernelName: 'Slice',
  replaces: true,
  kernelFunc: (args) => {
    const { inputs, attrs, backend } = args;
    const x = inputs.x as TensorInfo;
    if (x.dtype === 'string') return stockKernel('Slice')!.kernelFunc(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!.begin as number[], attrs!.size as number[]);
    return sliceHeap(x, begin, size, backend as KernelBackend);
  },
};

/** Copy x[begin : begin + size] (numeric dtypes, sizes already resolved) into a new wasm tensor. */
export function sliceHeap(x: TensorInfo, begin: number[], size: number[], backend: KernelBackend): TensorInfo {
  const be = backend as WasmHeapBackend;
  const out = be.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  // Views after makeOutput: an allocation may have grown (and replaced) the heap buffer.
  const src = be.typedArrayFromHeap(x);
  const dst = be.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  const strides = tf.util.computeStrides(x.shape);
  // The longest contiguous run: trailing axes taken whole, plus the last partial axis.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === x.shape[inner]) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, inner);
  const nRuns = outer.reduce((a, b) => a * b, 1);
  const baseOffset = begin.reduce((acc, b, i) => acc + b * (i === rank - 1 ? 1 : strides[i]), 0);
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (let r = 0; r < nRuns; r++) {
    let off = baseOffset;
    for (let a = 0; a < inner; a++) off += idx[a] * strides[a];
    // Short runs (strided phase slices) are cheaper as a plain loop than as subarray + set.
    if (run < 16) for (let j = 0; j < run; j++) dst[o + j] = src[off + j];
    else dst.set(src.subarray(off, off + run), o);
    o += run;
    for (let a = inner - 1; a >= 0; a--) {
      if (++idx[a] < outer[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}
