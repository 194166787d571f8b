// Exponential moving average of the trained weights ("model EMA", as timm's ModelEmaV2 and YOLOv5 keep it).
// At the learning rates that make a CPU fine-tune short, the last iterate jumps around from one evaluation to
// the next (box AP50 0.70 → 0.51 → 0.73 within 50 steps on the demo); the average of the recent iterates is
// steadier and better, so evaluations during the run and the saved model use it.
//
// The decay warms up as TensorFlow's ExponentialMovingAverage(num_updates) does: d_t = min(decay, (1+t)/(10+t)).
// Early in a run the average therefore spans about the last tenth of the steps taken, not a fixed window that
// would still remember the random initialisation.
//
// The shadow weights live in plain Float32Arrays (one update is a multiply-add over ~2 M floats; tf ops would
// cost a kernel call or three per parameter on wasm) and go into a checkpoint next to the optimizer state, so a
// resumed run continues the same average.
import { readyForSyncRead, tf } from '../../compute/engine';
import { jsMemory } from '../../compute/kernels/kernel-util';
import { f32Tensor, toFloat32, type StTensor } from '../../io/safetensors';
import type { OptimParam } from './adamw';
import { flatBuffer, flatLayout } from '../parallel/flat-params';
import { emaUpdate } from './flat-update';

export const EMA_UPDATES_KEY = 'ema.updates';
export const emaKey = (name: string) => `ema.${name}`;

export class WeightEma {
  private readonly shadow: Float32Array[];
  private updates = 0;
  /** webgpu: restart() waits for prepare(), which brings the parameters' values to the CPU first */
  private pendingRestart = false;
  /** the shadow weights in the parameters' flat layout, when asked for (`flat`) */
  readonly flat: Float32Array | null;

  /**
   * `flat`: keep the shadow weights in one array in the parameters' order (shared memory with `shared`), so the
   * data-parallel trainer's helpers can update their ranges of it (optim/flat-update.ts).
   */
  constructor(
    private readonly params: readonly OptimParam[],
    readonly decay = 0.999,
    layout?: { flat: true; shared?: boolean },
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EMA: decay must be in [0, 1), got ${decay}`);
    if (layout) {
      // the optimizer's layout (flatLayout of the same parameters), so flat-update.ts indexes both alike
      const { entries, size } = flatLayout(params);
      const flat = new Float32Array(flatBuffer(size, !!layout.shared));
      this.flat = flat;
      this.shadow = entries.map((e) => flat.subarray(e.offset, e.offset + e.size));
    } else {
      this.flat = null;
      this.shadow = params.map((p) => new Float32Array(p.variable.size));
    }
    this.restart();
  }

  /** Starts the average afresh from the parameters' current values. */
  restart(): void {
    if (tf.getBackend() === 'webgpu') {
      this.pendingRestart = true;
      this.updates = 0;
      return;
    }
    this.params.forEach((p, i) => this.shadow[i].set(p.variable.dataSync() as Float32Array));
    this.updates = 0;
  }

  /**
   * webgpu: reads the parameters back (async; they cannot be read synchronously there) so that update() and a
   * restart() waiting for them can run. Call before each update(). A no-op on wasm and cpu.
   */
  async prepare(): Promise<void> {
    if (tf.getBackend() !== 'webgpu') return;
    await readyForSyncRead(this.params.map((p) => p.variable));
    if (this.pendingRestart) {
      this.pendingRestart = false;
      this.params.forEach((p, i) => this.shadow[i].set(p.variable.dataSync() as Float32Array));
    }
  }

  /** Updates taken so far (the t of the decay warm-up). */
  get count(): number {
    return this.updates;
  }

  /** The decay the next update uses. */
  currentDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /**
   * Folds the parameters' current values (their variables) into the average; call after each optimizer step.
   * The data-parallel trainer updates `flat` itself (optim/flat-update.ts) and only counts the step (`advance`).
   */
  update(): void {
    const d = this.advance();
    // views on the backend's memory (wasm heap, cpu arrays), not copies; nothing below allocates tensors
    const mem = jsMemory(tf.backend(), tf.getBackend());
    this.params.forEach((p, i) => {
      const s = this.shadow[i];
      const x = mem.read(p.variable);
      if (x.length !== s.length) throw new Error(`EMA: parameter ${p.name} has ${x.length} values, expected ${s.length}`);
      emaUpdate(s, x, d);
    });
  }

  /** Counts one update and returns its decay, for an update done elsewhere on `flat` (flat-update.ts). */
  advance(): number {
    const d = this.currentDecay();
    this.updates++;
    return d;
  }

  /** Runs `fn` with the averaged weights in the model's variables, then puts the trained weights back. */
  async withAverage<T>(fn: () => Promise<T>): Promise<T> {
    const saved = this.params.map((p) => tf.keep(p.variable.clone()));
    try {
      this.copyIntoModel();
      return await fn();
    } finally {
      this.params.forEach((p, i) => p.variable.assign(saved[i]));
      tf.dispose(saved);
    }
  }

  /** Writes the averaged weights into the model's variables (the end of a run: the saved model is the average). */
  copyIntoModel(): void {
    this.params.forEach((p, i) => {
      const t = tf.tensor(this.shadow[i], p.variable.shape, 'float32');
      p.variable.assign(t);
      t.dispose();
    });
  }

  /** The state for a checkpoint: one tensor per parameter (TF layout, as the optimizer's moments) + the count. */
  exportState(): Map<string, StTensor> {
    const out = new Map<string, StTensor>();
    out.set(EMA_UPDATES_KEY, f32Tensor(Float32Array.of(this.updates), [1]));
    this.params.forEach((p, i) => out.set(emaKey(p.name), f32Tensor(this.shadow[i], [...p.variable.shape])));
    return out;
  }

  /** Restores exportState's output; every parameter must be present with its shape. */
  importState(state: Map<string, StTensor>): void {
    const n = state.get(EMA_UPDATES_KEY);
    if (!n) throw new Error(`EMA state has no ${EMA_UPDATES_KEY} entry`);
    const rows = this.params.map((p) => {
      const t = state.get(emaKey(p.name));
      if (!t) throw new Error(`EMA state is missing ${emaKey(p.name)}`);
      if (t.shape.join(',') !== p.variable.shape.join(',')) throw new Error(`EMA state ${emaKey(p.name)} has shape [${t.shape}], expected [${p.variable.shape}]`);
      return toFloat32(t, emaKey(p.name));
    });
    rows.forEach((r, i) => this.shadow[i].set(r));
    this.pendingRestart = false;
    this.updates = Math.round(toFloat32(n, EMA_UPDATES_KEY)[0]);
  }
}
