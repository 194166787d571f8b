// Run the same computation on the wasm backend (with our kernels) and on the cpu backend, and
// compare. Inputs are built inside `fn` from plain arrays, so each backend computes from scratch.
import { tf } from '../../../../src-main/core/compute/engine';

/** Deterministic pseudo-random numbers (mulberry32) in [-1, 1). */
export function randoms(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randoms(shape.reduce((a, b) => a * b, 1), seed), shape);
}

export interface Compared {
  wasm: Float32Array | Int32Array | Uint8Array;
  cpu: Float32Array | Int32Array | Uint8Array;
  wasmShape: number[];
  cpuShape: number[];
  /** max |wasm - cpu| / max |cpu| */
  relErr: number;
}

async function runOn(backend: string, fn: () => tf.Tensor) {
  await tf.setBackend(backend);
  const t = tf.tidy(fn);
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  const shape = t.shape.slice();
  t.dispose();
  return { data, shape };
}

export async function compareBackends(fn: () => tf.Tensor): Promise<Compared> {
  const w = await runOn('wasm', fn);
  const c = await runOn('cpu', fn);
  await tf.setBackend('wasm');
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < c.data.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(Number(w.data[i]) - Number(c.data[i])));
    maxRef = Math.max(maxRef, Math.abs(Number(c.data[i])));
  }
  const lengthsDiffer = w.data.length !== c.data.length;
  return { wasm: w.data, cpu: c.data, wasmShape: w.shape, cpuShape: c.shape, relErr: lengthsDiffer ? Infinity : maxRef === 0 ? maxDiff : maxDiff / maxRef };
}

/** Call a kernel by name with explicit attributes (as the gradient code does). */
export function kernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  return tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor;
}
