// STUB (to be replaced by the compute-engine work): picks a tfjs backend. Keep the exported names stable.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export interface ComputeInfo {
  backend: string;
  threads: number;
  tfjsVersion: string;
  extraKernels: string[];
  notes: string[];
}

let info: ComputeInfo | null = null;

export async function initCompute(opts: { backend?: string; threads?: number } = {}): Promise<ComputeInfo> {
  if (info && !opts.backend) return info;
  await tf.setBackend(opts.backend ?? 'cpu');
  await tf.ready();
  info = { backend: tf.getBackend(), threads: 1, tfjsVersion: tf.version_core, extraKernels: [], notes: [] };
  return info;
}

export function getComputeInfo(): ComputeInfo | null {
  return info;
}

export { tf };
