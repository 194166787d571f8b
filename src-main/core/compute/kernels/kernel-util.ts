// Helpers for wasm kernels written with ordinary tfjs ops. Ops called inside a kernel are not
// recorded on the gradient tape, so a kernel may freely compose them.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** A Tensor view of a kernel input. Raise the backend ref count first: disposing the view then
 * drops only our reference, not the caller's data. */
export function wrap(info: TensorInfo, backend: KernelBackend): tf.Tensor {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

/** Hand a tensor made inside a kernel back to the engine as the kernel's output. */
export function output(t: tf.Tensor, backend: KernelBackend): TensorInfo {
  const info: TensorInfo = { dataId: t.dataId, shape: t.shape.slice(), dtype: t.dtype };
  backend.incRef(t.dataId);
  t.dispose();
  return info;
}

/**
 * A kernel body in terms of tensors: inputs are wrapped, the body runs in a tidy scope and its
 * result becomes the kernel output.
 */
export function compositeKernel(
  body: (inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>, backend: KernelBackend) => tf.Tensor,
): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const be = backend as KernelBackend;
    const wrapped: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) if (v) wrapped[k] = wrap(v, be);
    try {
      const out = tf.tidy(() => body(wrapped, (attrs ?? {}) as Record<string, unknown>, be));
      return output(out, be);
    } finally {
      for (const t of Object.values(wrapped)) t.dispose();
    }
  };
}

/** An extra kernel for the wasm backend; `replaces` keeps the stock one for fallbacks and benchmarks. */
export interface ExtraKernel {
  kernelName: string;
  kernelFunc: KernelFunc;
  /** true when wasm already has this kernel and ours is a faster replacement. */
  replaces: boolean;
}

const stock = new Map<string, KernelConfig>();

/**
 * True while a gradient tape records (inside tf.grad/variableGrads). Training-only fast paths key on it, so
 * inference keeps the arithmetic the parity tests pin down.
 */
export function recordingGradients(): boolean {
  return ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth ?? 0) > 0;
}

/**
 * A kernel output that is its input: the same data under a second reference (tensor data is immutable), as
 * wasm's Reshape does. For kernels whose result equals their input (Identity, a Cast to the same dtype).
 */
export function aliasOf(x: TensorInfo, backend: KernelBackend): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/** The stock wasm kernel we replaced (or undefined), for fast paths that delegate to it. */
export function stockKernel(kernelName: string): KernelConfig | undefined {
  return stock.get(kernelName) ?? tf.getKernel(kernelName, 'wasm');
}

export function rememberStock(kernelName: string): void {
  const k = tf.getKernel(kernelName, 'wasm');
  if (k && !stock.has(kernelName)) stock.set(kernelName, { ...k });
}

/** Padding [before, after] along one axis, allowing negative values (which crop instead). */
export function padOrCrop(x: tf.Tensor, axis: number, before: number, after: number): tf.Tensor {
  let t = x;
  if (before < 0 || after < 0) {
    const begin = t.shape.map(() => 0);
    const size = t.shape.slice();
    const cropB = Math.max(0, -before);
    const cropA = Math.max(0, -after);
    begin[axis] = cropB;
    size[axis] = t.shape[axis] - cropB - cropA;
    t = tf.slice(t, begin, size);
  }
  if (before > 0 || after > 0) {
    const pads = t.shape.map(() => [0, 0] as [number, number]);
    pads[axis] = [Math.max(0, before), Math.max(0, after)];
    t = tf.pad(t, pads);
  }
  return t;
}

/** Normalise a stride/dilation attribute to [h, w]. */
export function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1]];
}

interface HeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuBackend extends KernelBackend {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): TensorInfo;
}

/** A float32 kernel output being filled: `data` is written, `done()` hands it to the engine. */
export interface JsOutput {
  /** a fresh view each time: take it after every output is made (a heap growth detaches older views) */
  readonly data: Float32Array;
  done(): TensorInfo;
}

/**
 * Float32 inputs and outputs of a kernel written in plain JS, for the backends that keep tensors in JS-visible
 * memory: wasm (views on its heap, no copies) and cpu (its arrays). Make every output first, then take the
 * input views and the outputs' `data`: allocating can grow the wasm heap, which detaches earlier views.
 */
export function jsMemory(backend: KernelBackend, backendName: string): { read(t: TensorInfo): Float32Array; out(shape: number[]): JsOutput } {
  if (backendName === 'wasm') {
    const be = backend as HeapBackend;
    return {
      read: (t) => be.typedArrayFromHeap(t),
      out: (shape) => {
        const info = be.makeOutput(shape, 'float32');
        return {
          get data() {
            return be.typedArrayFromHeap(info);
          },
          done: () => info,
        };
      },
    };
  }
  const be = backend as CpuBackend;
  return {
    read: (t) => be.readSync(t.dataId) as Float32Array,
    out: (shape) => {
      const data = new Float32Array(tf.util.sizeFromShape(shape));
      return { data, done: () => be.makeTensorInfo(shape, 'float32', data) };
    },
  };
}
