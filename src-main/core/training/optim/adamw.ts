// AdamW (Loshchilov & Hutter) with PyTorch's exact update order:
//   p ← p·(1 − lr·wd)                       (decoupled decay, only for params with decay on)
//   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
//   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
// Decay is off for 1-D tensors and biases (timm's rule used by the HST scripts); MetaT (3-D) is decayed.
//
// The state (m, v per parameter, and the step count) is exported as named tensors so a checkpoint can store it
// next to the weights and a resumed run continues bit-for-bit.
import { tf } from '../../compute/engine';
import { fusedAdamW, hasFusedAdamW } from '../../compute/kernels/fused-adamw';
import type { OptimParam } from '../../task-model/optim-param';

export interface AdamWOptions {
  lr?: number; // default 1e-3; usually overridden per step by the schedule
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  eps?: number; // 1e-8
  weightDecay?: number; // 0.05
}

export type { OptimParam } from '../../task-model/optim-param';

/** timm's rule: no weight decay for tensors of rank ≤ 1 or names ending in ".bias". */
export function defaultDecay(name: string, shape: readonly number[]): boolean {
  return shape.length > 1 && !name.endsWith('.bias');
}

interface Slot {
  name: string;
  variable: tf.Variable;
  decay: boolean;
  m: tf.Variable;
  v: tf.Variable;
}

export const OPTIM_STEP_KEY = 'optim.step';
export const momentKey = (name: string, which: 'exp_avg' | 'exp_avg_sq') => `optim.${which}.${name}`;

let counter = 0;

export class AdamW {
  private readonly slots: Slot[];
  private readonly byVarName = new Map<string, Slot>();
  private t = 0;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: OptimParam[], opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.05;
    const id = ++counter;
    const seen = new Set<string>();
    this.slots = params.map((p) => {
      if (seen.has(p.name)) throw new Error(`AdamW: parameter ${p.name} is listed twice.`);
      seen.add(p.name);
      const slot: Slot = {
        name: p.name,
        variable: p.variable,
        decay: p.decay ?? defaultDecay(p.name, p.variable.shape),
        m: tf.variable(tf.zerosLike(p.variable), false, `adamw${id}/m/${p.name}`),
        v: tf.variable(tf.zerosLike(p.variable), false, `adamw${id}/v/${p.name}`),
      };
      this.byVarName.set(p.variable.name, slot);
      return slot;
    });
  }

  /** Number of optimizer steps taken so far (the t of the bias correction). */
  get step(): number {
    return this.t;
  }

  /** Which parameters get weight decay (for logs and tests). */
  decayed(): string[] {
    return this.slots.filter((s) => s.decay).map((s) => s.name);
  }

  /**
   * One update. `grads` is keyed by tf variable name (what tf.variableGrads returns). Parameters without a
   * gradient are left untouched (like PyTorch's grad=None), but the shared step count still advances.
   * Gradients are not disposed here.
   */
  applyGradients(grads: Record<string, tf.Tensor>, lr = this.lr, gradScale = 1): void {
    this.t += 1;
    const bc1 = 1 - this.beta1 ** this.t;
    const sqrtBc2 = Math.sqrt(1 - this.beta2 ** this.t);
    const stepSize = lr / bc1;
    for (const name of Object.keys(grads)) {
      if (!this.byVarName.has(name)) throw new Error(`AdamW: got a gradient for ${name}, which is not in its parameter list.`);
    }
    const fused = hasFusedAdamW();
    for (const s of this.slots) {
      const g = grads[s.variable.name];
      if (!g) continue;
      if (fused && s.variable.dtype === 'float32' && g.dtype === 'float32') {
        const decayFactor = s.decay && this.weightDecay !== 0 ? 1 - lr * this.weightDecay : 1;
        const [p, m, v] = fusedAdamW(s.variable, g, s.m, s.v, { decayFactor, beta1: this.beta1, beta2: this.beta2, stepSize, sqrtBc2, eps: this.eps, gradScale });
        s.m.assign(m);
        s.v.assign(v);
        s.variable.assign(p);
        tf.dispose([p, m, v]);
        continue;
      }
      tf.tidy(() => {
        let p: tf.Tensor = s.variable;
        const gs = gradScale !== 1 ? tf.mul(g, gradScale) : g;
        if (s.decay && this.weightDecay !== 0) p = tf.mul(p, 1 - lr * this.weightDecay);
        const m = tf.add(tf.mul(s.m, this.beta1), tf.mul(gs, 1 - this.beta1));
        const v = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(gs), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), this.eps);
        p = tf.sub(p, tf.mul(tf.div(m, denom), stepSize));
        s.m.assign(m);
        s.v.assign(v);
        s.variable.assign(p);
      });
    }
  }

  /**
   * The state as named tensors (copies; the caller disposes): `optim.step` (int32 scalar),
   * `optim.exp_avg.<param>` and `optim.exp_avg_sq.<param>` (same TF layout as the parameter).
   */
  exportState(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = { [OPTIM_STEP_KEY]: tf.scalar(this.t, 'int32') };
    for (const s of this.slots) {
      out[momentKey(s.name, 'exp_avg')] = s.m.clone();
      out[momentKey(s.name, 'exp_avg_sq')] = s.v.clone();
    }
    return out;
  }

  /** Restores a state written by exportState; every parameter's moments must be present with matching shapes. */
  importState(state: Record<string, tf.Tensor>): void {
    const step = state[OPTIM_STEP_KEY];
    if (!step) throw new Error(`Optimizer state has no ${OPTIM_STEP_KEY} entry.`);
    for (const s of this.slots) {
      for (const [which, target] of [
        ['exp_avg', s.m],
        ['exp_avg_sq', s.v],
      ] as const) {
        const key = momentKey(s.name, which);
        const t = state[key];
        if (!t) throw new Error(`Optimizer state is missing ${key}.`);
        if (t.shape.join(',') !== target.shape.join(','))
          throw new Error(`Optimizer state ${key} has shape [${t.shape}], expected [${target.shape}].`);
      }
    }
    for (const s of this.slots) {
      tf.tidy(() => {
        s.m.assign(tf.cast(state[momentKey(s.name, 'exp_avg')], 'float32'));
        s.v.assign(tf.cast(state[momentKey(s.name, 'exp_avg_sq')], 'float32'));
      });
    }
    this.t = Math.round(step.dataSync()[0]);
  }

  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}
