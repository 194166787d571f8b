// AdamW over parameters laid out in one flat float32 array: the data-parallel trainer's shared weights
// (parallel/grad-pool.ts), updated in place, one parameter at a time (optim/flat-update.ts). The update reads 4
// and writes 3 floats per weight and is bound by memory bandwidth (~2.8 M weights on the demo: ~80 MB a step), so
// the gradient is taken parameter by parameter from wherever it lies (the helpers' buffers) into a cache-sized
// scratch, instead of from a flat copy that would be written and read back whole. With `shared` the moments sit
// in shared memory, where the gradient helpers update their ranges of parameters in parallel.
//
// The fused kernel's own update loop (compute/kernels/fused-adamw.ts: adamwUpdate), in place, and the same state
// names and shapes in a checkpoint, so a run can resume with or without gradient helpers.
import { tf } from '../../compute/engine';
import { flatBuffer, flatLayout, type FlatLayout } from '../parallel/flat-params';
import { defaultDecay, momentKey, OPTIM_STEP_KEY, type AdamWOptions, type OptimParam } from './adamw';
import type { FlatOptimState, FlatStep } from './flat-update';

export class FlatAdamW {
  readonly layout: FlatLayout;
  /** moments, decay flags and per-parameter step marks (no moving average: the trainer adds its own) */
  readonly state: FlatOptimState;
  private t = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: readonly OptimParam[], opts: AdamWOptions & { shared?: boolean } = {}) {
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new Error(`AdamW: parameter ${p.name} is listed twice.`);
      seen.add(p.name);
    }
    this.layout = flatLayout(params);
    const shared = !!opts.shared;
    this.state = {
      entries: this.layout.entries,
      decay: params.map((p) => p.decay ?? defaultDecay(p.name, p.variable.shape)),
      m: new Float32Array(flatBuffer(this.layout.size, shared)),
      v: new Float32Array(flatBuffer(this.layout.size, shared)),
      ema: null,
      done: new Int32Array(flatBuffer(params.length, shared)),
    };
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.05;
  }

  get step(): number {
    return this.t;
  }

  /** Advances the step count and returns what the step's update needs (flat-update.ts updateParams, which the
   *  gradient pool runs on its helpers or on the trainer). */
  begin(lr: number, gradScale: number, emaDecay: number | null = null): FlatStep {
    this.t += 1;
    return { t: this.t, lr, gradScale, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, emaDecay };
  }

  /** The state as AdamW.exportState writes it (named tensors, copies; the caller disposes). */
  exportState(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = { [OPTIM_STEP_KEY]: tf.scalar(this.t, 'int32') };
    for (const e of this.layout.entries) {
      out[momentKey(e.name, 'exp_avg')] = tf.tensor(this.state.m.slice(e.offset, e.offset + e.size), e.shape, 'float32');
      out[momentKey(e.name, 'exp_avg_sq')] = tf.tensor(this.state.v.slice(e.offset, e.offset + e.size), e.shape, 'float32');
    }
    return out;
  }

  /** Restores AdamW's (or this class's) exported state; every parameter's moments must be there with their shapes. */
  importState(state: Record<string, tf.Tensor>): void {
    const step = state[OPTIM_STEP_KEY];
    if (!step) throw new Error(`Optimizer state has no ${OPTIM_STEP_KEY} entry.`);
    for (const e of this.layout.entries) {
      for (const which of ['exp_avg', 'exp_avg_sq'] as const) {
        const key = momentKey(e.name, which);
        const t = state[key];
        if (!t) throw new Error(`Optimizer state is missing ${key}.`);
        if (t.shape.join(',') !== e.shape.join(',')) throw new Error(`Optimizer state ${key} has shape [${t.shape}], expected [${e.shape}].`);
      }
    }
    for (const e of this.layout.entries) {
      this.state.m.set(state[momentKey(e.name, 'exp_avg')].dataSync(), e.offset);
      this.state.v.set(state[momentKey(e.name, 'exp_avg_sq')].dataSync(), e.offset);
    }
    this.t = Math.round(step.dataSync()[0]);
    this.state.done.fill(0);
  }

  dispose(): void {}
}
