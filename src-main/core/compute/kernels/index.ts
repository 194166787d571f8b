// The wasm backend's extra kernels: gradients it lacks, and faster replacements for slow stock ones.
import * as tf from '@tensorflow/tfjs-core';
import { rememberStock, stockKernel, type ExtraKernel } from './kernel-util';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseBackpropFilter } from './depthwise-backprop-filter';
import { depthwiseBackpropInput } from './depthwise-backprop-input';
import { unsortedSegmentSum } from './unsorted-segment-sum';
import { batchMatMul } from './batch-matmul';
import { slice } from './slice';
import { splitV } from './split-v';
import { unpack } from './unpack';
import { identity } from './identity';
import { cast } from './cast';
import { meanLeading, sumLeading } from './reduce-leading';

export const EXTRA_WASM_KERNELS: readonly ExtraKernel[] = [
  conv2dBackpropFilter,
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
  unsortedSegmentSum,
  conv2dBackpropInput,
  batchMatMul,
  slice,
  splitV,
  unpack,
  identity,
  cast,
  sumLeading,
  meanLeading,
];

let registered: string[] | null = null;

/**
 * Register the extra kernels for 'wasm' (idempotent). Call after the wasm backend has started:
 * stock kernels set themselves up (cwrap) at backend start, and we delegate to them. Missing kernels are added only if wasm still
 * lacks them, so a future tfjs that ships its own keeps it. Returns the names now registered.
 */
export function registerWasmKernels(): string[] {
  if (registered) return registered;
  const names: string[] = [];
  for (const k of EXTRA_WASM_KERNELS) {
    const existing = tf.getKernel(k.kernelName, 'wasm');
    if (existing && !k.replaces) continue;
    if (existing) {
      rememberStock(k.kernelName);
      tf.unregisterKernel(k.kernelName, 'wasm');
    }
    tf.registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: k.kernelFunc });
    names.push(k.kernelName);
  }
  registered = names;
  return names;
}

/** Put back a stock kernel (benchmarks compare against it). Returns a function that undoes it. */
export function useStockKernel(kernelName: string): () => void {
  const extra = EXTRA_WASM_KERNELS.find((k) => k.kernelName === kernelName);
  if (!extra?.replaces || !registered?.includes(kernelName)) return () => {};
  const stockCfg = stockKernel(kernelName)!;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(stockCfg);
  return () => {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: extra.kernelFunc });
  };
}
