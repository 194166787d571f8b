// One optimizer step over weights in a flat layout, for any range of parameters: AdamW, then the weights'
// moving average, parameter by parameter. The data-parallel trainer splits the parameters into ranges and each
// gradient helper runs its range on the shared weights (parallel/grad-pool.ts); the trainer runs the same
// function over all of them when it has no helpers to share with. One function, so both give the same floats.
//
// Per parameter the moving average follows its AdamW update while the weights are still in cache (these loops
// are bound by memory bandwidth), and `done[k] = t` records that parameter k has its step t: if a helper stops
// half-way, the trainer finishes exactly the parameters it left.
import { adamwUpdate } from '../../compute/kernels/fused-adamw';

/** The optimizer's per-weight state in the parameters' flat layout (shared memory during a data-parallel run). */
export interface FlatOptimState {
  /** offset and size of each parameter in every array below (and in the weights) */
  entries: readonly { name: string; offset: number; size: number }[];
  /** decoupled weight decay applies to parameter k */
  decay: readonly boolean[];
  m: Float32Array;
  v: Float32Array;
  /** the moving average's shadow weights, or null when the run keeps none */
  ema: Float32Array | null;
  /** done[k] = the last step t applied to parameter k */
  done: Int32Array;
}

/** What one step needs besides the state: its count, learning rate, clipping scale and the EMA's decay. */
export interface FlatStep {
  /** AdamW's step count after this step (1 for the first) */
  t: number;
  lr: number;
  gradScale: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** this step's moving-average decay; null: no average */
  emaDecay: number | null;
}

/**
 * Applies step `s` to parameters [k0, k1). `grad(k, scratch)` gives parameter k's gradient, or null when it has
 * none (AdamW leaves it as it is; the average still moves). Parameters already at step t are skipped.
 */
export function updateParams(
  state: FlatOptimState,
  weights: Float32Array,
  grad: (k: number, scratch: Float32Array) => Float32Array | null,
  k0: number,
  k1: number,
  s: FlatStep,
  scratch: Float32Array,
): void {
  const { beta1, beta2, eps } = s;
  const stepSize = s.lr / (1 - beta1 ** s.t);
  const sqrtBc2 = Math.sqrt(1 - beta2 ** s.t);
  const d = s.emaDecay;
  for (let k = k0; k < k1; k++) {
    if (state.done[k] === s.t) continue;
    const { name, offset, size } = state.entries[k];
    const P = weights.subarray(offset, offset + size);
    const G = grad(k, scratch);
    if (G) {
      if (G.length !== size) throw new Error(`AdamW: the gradient of ${name} has ${G.length} values, expected ${size}`);
      const decayFactor = state.decay[k] && s.weightDecay !== 0 ? 1 - s.lr * s.weightDecay : 1;
      const M = state.m.subarray(offset, offset + size);
      const V = state.v.subarray(offset, offset + size);
      // in place: the weights and the moments are the outputs
      adamwUpdate(P, G, M, V, P, M, V, size, { decayFactor, beta1, beta2, stepSize, sqrtBc2, eps, gradScale: s.gradScale });
    }
    if (d !== null && state.ema) emaUpdate(state.ema.subarray(offset, offset + size), P, d);
    state.done[k] = s.t;
  }
}

/** shadow ← d·shadow + (1 − d)·x (optim/ema.ts's update, for one parameter). */
export function emaUpdate(shadow: Float32Array, x: ArrayLike<number>, d: number): void {
  const w = 1 - d;
  for (let j = 0; j < shadow.length; j++) shadow[j] = d * shadow[j] + w * x[j];
}

/**
 * Contiguous parameter ranges [k0, k1), one per worker, with about equal numbers of floats (the update's cost).
 * Fewer ranges than workers when there are fewer parameters.
 */
export function splitParams(entries: readonly { size: number }[], workers: number): [number, number][] {
  const total = entries.reduce((a, e) => a + e.size, 0);
  const out: [number, number][] = [];
  let k0 = 0;
  let acc = 0;
  for (let w = 1; w <= workers && k0 < entries.length; w++) {
    const target = (total * w) / workers;
    let k1 = k0;
    while (k1 < entries.length && (w === workers || acc + entries[k1].size / 2 <= target || k1 === k0)) acc += entries[k1++].size;
    out.push([k0, k1]);
    k0 = k1;
  }
  return out;
}
