// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics: the optimizer applies the
// coefficient inside its update) and gradient accumulation.
import { tf } from '../../compute/engine';


/** √(Σ‖g‖²) over every gradient (one device→host sync). NaN/Inf when any gradient is non-finite. */
export function globalNorm(grads: Record<string, tf.Tensor>): number {
  const list = Object.values(grads);
  if (list.length === 0) return 0;
  // summed in JS (float64) from the read-back values: 2 kernel calls per gradient fewer, same result to rounding
  let sum = 0;
  for (const g of list) {
    const d = g.dataSync();
    for (let i = 0; i < d.length; i++) sum += d[i] * d[i];
  }
  return Math.sqrt(sum);
}

/**
 * globalNorm for any backend. On webgpu the squares are summed on the GPU (float32) and one scalar comes back:
 * its tensors cannot be read synchronously in Node, and reading every gradient back would cost a transfer each.
 */
export async function globalNormOf(grads: Record<string, tf.Tensor>): Promise<number> {
  const list = Object.values(grads);
  if (tf.getBackend() !== 'webgpu' || list.length === 0) return globalNorm(grads);
  // AddN binds every input as a storage buffer, and a WebGPU shader may bind only 8 (the default limit): add in groups
  const total = tf.tidy(() => {
    let parts = list.map((g) => tf.sum(tf.square(g)));
    while (parts.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < parts.length; i += 7) next.push(i + 1 === parts.length ? parts[i] : tf.addN(parts.slice(i, i + 7)));
      parts = next;
    }
    return parts[0];
  });
  const v = (await total.data())[0];
  total.dispose();
  return Math.sqrt(v);
}

/** The global-norm clipping coefficient min(1, maxNorm / (norm + 1e-6)) (torch's clip_grad_norm_). */
export function clipCoefficient(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/** Sums gradients over micro-batches; `mean()` gives the average, as if one large batch had been used. */
export class GradAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Adds one micro-batch's gradients (they are disposed: the accumulator owns them from now on). */
  add(grads: Record<string, tf.Tensor>): void {
    for (const [k, g] of Object.entries(grads)) {
      const prev = this.sums.get(k);
      if (prev) {
        this.sums.set(k, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      } else {
        this.sums.set(k, g);
      }
    }
    this.n += 1;
  }

  /** Mean over the micro-batches added since the last reset (new tensors) and resets the accumulator. */
  takeMean(): Record<string, tf.Tensor> {
    if (this.n === 0) throw new Error('GradAccumulator: no gradients were added.');
    if (this.n === 1) {
      // one micro-batch: the sums are the mean (no division kernels)
      const own = Object.fromEntries(this.sums);
      this.sums = new Map();
      this.n = 0;
      return own;
    }
    const out: Record<string, tf.Tensor> = {};
    for (const [k, s] of this.sums) {
      out[k] = tf.div(s, this.n);
      s.dispose();
    }
    this.sums.clear();
    this.n = 0;
    return out;
  }

  dispose(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums.clear();
    this.n = 0;
  }
}

/** Disposes every tensor of a gradient map. */
export function disposeGrads(grads: Record<string, tf.Tensor>): void {
  for (const g of Object.values(grads)) g.dispose();
}
