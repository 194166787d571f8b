// One AdamW update of one parameter as a single kernel ("HstAdamW": p, g, m, v → p', m', v') for the JS-memory
// backends. Composed from ops the update is ~14 kernel calls per parameter, and a side network + heads has
// hundreds of small parameters: the optimizer issued about as many calls per step as the forward and backward
// together. Same arithmetic as the composed update (training/optim/adamw.ts), in float32 storage.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { jsMemory } from './kernel-util';

export const ADAMW_KERNEL = 'HstAdamW';

export interface AdamWKernelAttrs {
  /** p ← p·decayFactor first (1 − lr·wd for decayed parameters, else 1) */
  decayFactor: number;
  beta1: number;
  beta2: number;
  /** lr / (1 − β1^t) */
  stepSize: number;
  /** √(1 − β2^t) */
  sqrtBc2: number;
  eps: number;
  /** gradient multiplier (global-norm clipping coefficient) */
  gradScale: number;
}

/**
 * The update of n floats: p, g, m, v in; p', m', v' out (the outputs may be the inputs: an in-place update, as
 * training/optim/adamw-flat.ts does on shared memory). Moments are rounded to float32 before p uses them.
 */
export function adamwUpdate(P: Float32Array, G: Float32Array, M: Float32Array, V: Float32Array, P2: Float32Array, M2: Float32Array, V2: Float32Array, n: number, a: AdamWKernelAttrs): void {
  const { decayFactor, beta1, beta2, stepSize, sqrtBc2, eps, gradScale } = a;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gi = G[i] * gradScale;
    const mi = Math.fround(beta1 * M[i] + c1 * gi);
    const vi = Math.fround(beta2 * V[i] + c2 * gi * gi);
    M2[i] = mi;
    V2[i] = vi;
    P2[i] = P[i] * decayFactor - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

function kernel(backendName: string): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as AdamWKernelAttrs;
    const { p, g, m, v } = inputs as Record<string, TensorInfo>;
    const n = tf.util.sizeFromShape(p.shape);
    const mem = jsMemory(backend as KernelBackend, backendName);
    const outs = [mem.out(p.shape.slice()), mem.out(p.shape.slice()), mem.out(p.shape.slice())];
    const P = mem.read(p);
    const G = mem.read(g);
    const M = mem.read(m);
    const V = mem.read(v);
    const [P2, M2, V2] = outs.map((o) => o.data);
    adamwUpdate(P, G, M, V, P2, M2, V2, n, a);
    return outs.map((o) => o.done());
  };
}

let registered = false;

/** Registers the fused AdamW kernel for wasm and cpu (idempotent). */
export function registerFusedAdamW(): void {
  if (registered) return;
  registered = true;
  for (const name of ['wasm', 'cpu']) {
    if (!tf.getKernel(ADAMW_KERNEL, name)) tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName: name, kernelFunc: kernel(name) });
  }
}

export function hasFusedAdamW(): boolean {
  return registered && tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
}

/** New [p, m, v] for one parameter (float32 tensors; the caller assigns them and disposes the returned ones). */
export function fusedAdamW(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamWKernelAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(ADAMW_KERNEL, { p, g, m, v }, attrs as never) as [tf.Tensor, tf.Tensor, tf.Tensor];
}
