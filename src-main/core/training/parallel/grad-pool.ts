// Data-parallel training on one machine. Each batch is split into equal shares, one per gradient helper thread
// (worker-grad.ts, single-threaded tfjs each); the trainer averages their gradients, weighted by share size,
// and keeps clipping, AdamW, the EMA, evaluations and checkpoints to itself.
//
// Why: on the wasm backend about half of a step is single-threaded (JS kernels, scalar wasm kernels, tfjs's
// per-kernel overhead), so XNNPACK's second thread idles through it. One single-threaded tfjs per core keeps
// both busy: on the 2-core machine a demo step at batch 8 went from ~1.5 s (one backend, 2 threads) to ~1.2 s
// (bench/results/finetune.md). The trainer's own backend computes no share: it keeps its threads for the
// evaluations, and a share on it would fight the helpers for the cores.
//
// The helpers hold no training state. Before every step the trainer writes its weights and BatchNorm running
// statistics into shared memory and each helper loads them, so pause/resume, checkpoints, evaluations with
// averaged weights and non-finite-loss stops stay the trainer's alone. After the step the trainer takes the
// share-size-weighted mean of the helpers' updated running statistics: the update of the whole batch, with each
// share's batch statistics in place of the batch's (the trainer's own forward never runs in training mode now,
// so without this its evaluations would use the statistics it started with). Like PyTorch's DDP without SyncBatchNorm, each share normalises its
// BatchNorm and its loss (e.g. FCOS's 1/#positives) over its own images: the averaged gradient is close to,
// not equal to, that of the batch in one piece.
//
// A helper that cannot start, fails or dies is dropped with a warning; its shares go to the others, or the
// trainer computes them itself. A run never stops because of a helper.
import { availableCores, tf } from '../../compute/engine';
import { lossAndGrads } from '../../incremental/fast-step';
import type { Sample } from '../data/types';
import type { OptimParam } from '../optim/adamw';
import type { TaskModel } from '../task-model';
import type { VitSource } from '../trainer';
import { assignVariables, flatLayout, readValues, sharedFloats, writeVariables, type FlatLayout } from './flat-params';
import { GradHelper, type HelperResult, type VitArrays } from './grad-helper';

export interface StepGradients {
  loss: number;
  parts: Record<string, number>;
  /** keyed by tf variable name, as tf.variableGrads gives them */
  grads: Record<string, tf.Tensor>;
}

export interface GradPoolOptions {
  model: TaskModel;
  spec: { heads: unknown; seed: number };
  /** the parameters the trainer optimises, in its order */
  params: readonly OptimParam[];
  mode: 'fast' | 'full';
  /** helper threads (default: one per core) */
  helpers?: number;
  workerFile?: string;
  startTimeoutMs?: number;
}

/**
 * Whether a run splits its batches by default: on wasm, where half a step is single-threaded, with a core for
 * each helper and a batch to split. Native backends (tfjs-node) already use every core in each kernel.
 */
export function dataParallelByDefault(backend: string | undefined, batchSize: number, cores = availableCores()): boolean {
  return backend === 'wasm' && cores >= 2 && batchSize >= 2;
}

export class GradPool {
  private warned = new Set<GradHelper>();

  private constructor(
    private readonly helpers: GradHelper[],
    /** parameters (the first `params` entries), then buffers */
    private readonly layout: FlatLayout,
    private readonly params: number,
    private readonly buffers: tf.Variable[],
    private readonly weights: Float32Array,
  ) {
    this.bufferLayout = { entries: layout.entries.slice(params), size: layout.size };
  }

  /** the buffers' entries of the layout (offsets into the same shared memory) */
  private readonly bufferLayout: FlatLayout;

  /**
   * Starts the helpers (in parallel). Those that fail are left out; `onWarning` hears why. Rejects only when none
   * starts.
   */
  static async start(o: GradPoolOptions, onWarning?: (m: string) => void): Promise<GradPool> {
    const buffers = o.model.buffers();
    const layout = flatLayout([...o.params, ...buffers]);
    const weights = sharedFloats(layout);
    const n = Math.max(1, o.helpers ?? availableCores());
    // the whole model state, read once for every helper (frozen parts and buffers must match too)
    const tensors = [...o.model.exportTensors()];
    const started = await Promise.allSettled(Array.from({ length: n }, () => GradHelper.start({ ...o, tensors, layout, params: o.params.length, weights })));
    const helpers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = started.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (helpers.length === 0) throw new Error(failures[0] ?? 'no gradient helper started');
    if (failures.length) onWarning?.(`${failures.length} of ${n} gradient helper threads did not start (${failures[0]}); training with ${helpers.length}`);
    return new GradPool(helpers, layout, o.params.length, buffers.map((b) => b.variable), weights);
  }

  /** helpers still working */
  get size(): number {
    return this.helpers.filter((h) => h.alive).length;
  }

  /** the helpers' backend and threads each, for the run's log */
  get info(): { backend: string; threads: number } {
    return this.helpers[0].info;
  }

  /**
   * Loss and gradients of `samples` with the model's current weights, computed in shares by the helpers and
   * averaged by share size. A helper that fails here is dropped (`onWarning` hears it once) and the trainer
   * computes its share.
   */
  async lossAndGrads(model: TaskModel, samples: readonly Sample[], vitSource: VitSource | null, vars: tf.Variable[], onWarning?: (m: string) => void): Promise<StepGradients> {
    if (vars.length !== this.params) throw new Error(`gradient pool: started for ${this.params} parameters, asked for ${vars.length}`);
    for (const h of this.helpers) if (h.dead) this.warnOnce(h, onWarning);
    const live = this.helpers.filter((h) => h.alive);
    if (live.length === 0) return localShare(model, samples, vitSource, vars);
    const shares = split(samples, Math.max(1, Math.min(live.length, samples.length)));
    // every share's ViT pass first: a failing source (a data problem) throws here, before any helper is asked,
    // instead of being taken for a helper's failure
    const vits: (VitArrays | null)[] = [];
    for (const s of shares) vits.push(vitSource ? vitArrays(await vitSource(s)) : null);
    writeVariables(this.layout, [...vars, ...this.buffers], this.weights);
    const asked = shares.map((share, i) => {
      const result = live[i].compute(share, vits[i]);
      // a rejection is handled below, once every share is out; keep it from counting as unhandled meanwhile
      result.catch(() => {});
      return { helper: live[i], share, result };
    });
    const done: (Share & { buffers: Float32Array[] })[] = [];
    try {
      for (const a of asked) {
        try {
          const res = await a.result;
          done.push({ ...this.helperShare(a.helper, res), n: a.share.length, buffers: this.bufferValues(a.helper.grads) });
        } catch (err) {
          a.helper.fail((err as Error).message);
          this.warnOnce(a.helper, onWarning);
          // from the step's statistics, like the helper would have
          this.restoreBuffers();
          const g = await localShare(model, a.share, vitSource, vars);
          done.push({ ...tensorShare(g, a.share.length, vars), buffers: this.buffers.map((b) => Float32Array.from(readValues(b))) });
        }
      }
    } catch (err) {
      for (const d of done) d.dispose();
      this.restoreBuffers();
      throw err;
    }
    this.averageBuffers(done);
    return combineShares(done, vars);
  }

  private warnOnce(h: GradHelper, onWarning?: (m: string) => void): void {
    if (this.warned.has(h)) return;
    this.warned.add(h);
    onWarning?.(`a gradient helper thread stopped (${h.dead}); ${this.size > 0 ? `training continues with ${this.size}` : 'training continues on the trainer thread'}`);
  }

  /** a helper's share read in place from its shared buffer (no tensors: the average is the only copy made) */
  private helperShare(helper: GradHelper, res: HelperResult): Omit<Share, 'n'> {
    const entries = this.layout.entries;
    return {
      loss: res.loss,
      parts: res.parts,
      values: (i) => (res.present[i] ? helper.grads.subarray(entries[i].offset, entries[i].offset + entries[i].size) : null),
      dispose: () => {},
    };
  }

  private bufferValues(src: Float32Array): Float32Array[] {
    return this.bufferLayout.entries.map((e) => src.slice(e.offset, e.offset + e.size));
  }

  /** the buffers as they were at the start of the step */
  private restoreBuffers(): void {
    assignVariables(this.bufferLayout, this.buffers, this.weights);
  }

  /** buffer = Σ (share size / batch) · the share's updated buffer */
  private averageBuffers(shares: readonly { n: number; buffers: Float32Array[] }[]): void {
    const total = shares.reduce((a, s) => a + s.n, 0);
    this.buffers.forEach((b, i) => {
      const out = new Float32Array(b.size);
      for (const s of shares) {
        const x = s.buffers[i];
        for (let j = 0; j < out.length; j++) out[j] += (s.n / total) * x[j];
      }
      const t = tf.tensor(out, b.shape, 'float32');
      b.assign(t);
      t.dispose();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.helpers.map((h) => h.close()));
  }
}

/** `n` consecutive shares whose sizes differ by at most one (the first ones larger). */
export function split<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(items.length / n) + (i < items.length % n ? 1 : 0);
    out.push(items.slice(start, start + size));
    start += size;
  }
  return out;
}

function vitArrays(vit: { metaOut: tf.Tensor[]; patches: tf.Tensor[] }): VitArrays {
  const toArray = (t: tf.Tensor) => ({ shape: [...t.shape], data: Float32Array.from(readValues(t)) });
  try {
    return { metaOut: vit.metaOut.map(toArray), patches: vit.patches.map(toArray) };
  } finally {
    tf.dispose([...vit.metaOut, ...vit.patches]);
  }
}

async function localShare(model: TaskModel, samples: readonly Sample[], vitSource: VitSource | null, vars: tf.Variable[]): Promise<StepGradients> {
  const vit = vitSource ? await vitSource(samples) : null;
  return lossAndGrads(model, samples, vit, vars);
}

/** One share's result: loss parts and, per parameter (trainer order), its gradient's values or null. */
interface Share {
  n: number;
  loss: number;
  parts: Record<string, number>;
  values(i: number): Float32Array | null;
  dispose(): void;
}

function tensorShare(g: StepGradients, n: number, vars: readonly tf.Variable[]): Share {
  return {
    n,
    loss: g.loss,
    parts: g.parts,
    // views on backend memory: valid until the next allocation, so read just before use
    values: (i) => (g.grads[vars[i].name] ? readValues(g.grads[vars[i].name]) : null),
    dispose: () => tf.dispose(Object.values(g.grads)),
  };
}

/**
 * The batch's loss and gradients from its shares: the mean over images of a per-image quantity is the
 * share-size-weighted mean of the shares' means. Disposes the shares' gradients.
 */
export function combine(shares: readonly { g: StepGradients; n: number }[], vars: readonly tf.Variable[]): StepGradients {
  return combineShares(shares.map((s) => tensorShare(s.g, s.n, vars)), vars);
}

function combineShares(shares: readonly Share[], vars: readonly tf.Variable[]): StepGradients {
  const total = shares.reduce((a, s) => a + s.n, 0);
  const w = shares.map((s) => s.n / total);
  const parts: Record<string, number> = {};
  for (const k of new Set(shares.flatMap((s) => Object.keys(s.parts)))) parts[k] = shares.reduce((a, s, i) => a + w[i] * (s.parts[k] ?? 0), 0);
  const grads: Record<string, tf.Tensor> = {};
  try {
    vars.forEach((v, p) => {
      // a share without a gradient for v adds zeros; the views stay valid because nothing allocates backend
      // memory until tf.tensor, after the last read
      const xs = shares.map((s) => s.values(p));
      if (xs.every((x) => !x)) return;
      const out = new Float32Array(v.size);
      xs.forEach((x, i) => {
        if (!x) return;
        const wi = w[i];
        for (let j = 0; j < out.length; j++) out[j] += wi * x[j];
      });
      grads[v.name] = tf.tensor(out, v.shape, 'float32');
    });
  } finally {
    for (const s of shares) s.dispose();
  }
  return { loss: shares.reduce((a, s, i) => a + w[i] * s.loss, 0), parts, grads };
}
