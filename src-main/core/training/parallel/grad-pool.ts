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
// The helpers hold no training state: each step they load the weights and BatchNorm running statistics from
// shared memory, so pause/resume, checkpoints, evaluations with averaged weights and non-finite-loss stops stay
// the trainer's alone. During a run that shared memory is the training's weights: the mean gradient is read
// parameter by parameter from the helpers' buffers, the optimizer (optim/flat-update.ts) updates the shared
// parameters in place, and the model's tf variables are set from them only when something reads the model
// (syncModel: evaluations, checkpoints, the end of the run). Between two steps the gradient's Σ g² and the
// optimizer's update (AdamW and the moving average, whose state is in shared memory too) are split into one
// range of parameters per helper and run on the helpers in parallel; the trainer sums the per-parameter Σ g² in
// parameter order, so the floats are those of running it all on one thread (docs/compute.md, "Data-parallel
// steps"). After the step the trainer takes the
// share-size-weighted mean of the helpers' updated running statistics: the update of the whole batch, with each
// share's batch statistics in place of the batch's (the trainer's own forward never runs in training mode now,
// so without this its evaluations would use the statistics it started with). Like PyTorch's DDP without SyncBatchNorm, each share normalises its
// BatchNorm and its loss (e.g. FCOS's 1/#positives) over its own images: the averaged gradient is close to,
// not equal to, that of the batch in one piece.
//
// A helper that cannot start, fails or dies is dropped with a warning; its shares go to the others, or the
// trainer computes them itself. A run never stops because of a helper.
import { availableCores, tf } from '../../compute/engine';
import { lossAndGrads } from '../fast-step';
import type { Sample } from '../../data/types';
import type { OptimParam } from '../optim/adamw';
import { splitParams, updateParams, type FlatOptimState, type FlatStep } from '../optim/flat-update';
import type { TaskModel } from '../../task-model/task-model';
import type { VitSource } from '../../features/types';
import { assignVariables, flatLayout, readValues, sharedFloats, writeVariables, type FlatLayout } from './flat-params';
import { addScaled, meanOf, squaresOfMean, sumOfSquares, type SharePart } from './flat-math';
import { GradHelper, type HelperResult, type VitArrays } from './grad-helper';

export interface StepGradients {
  loss: number;
  parts: Record<string, number>;
  /** keyed by tf variable name, as tf.variableGrads gives them */
  grads: Record<string, tf.Tensor>;
}

/**
 * A batch's loss and mean gradient, parameter by parameter in the pool's flat layout. The mean is read straight
 * from the helpers' shared buffers when asked for: an optimizer that takes one parameter at a time keeps it in
 * cache instead of writing and re-reading a whole flat copy (these loops are bound by memory bandwidth).
 * Valid until the pool's next step.
 */
export interface FlatGradients {
  loss: number;
  parts: Record<string, number>;
  /** present[k]: parameter k got a gradient (its mean reads as zeros otherwise) */
  present: boolean[];
  /** parameter k's mean gradient, written into `out` (at least its size); returns the filled part */
  mean(k: number, out: Float32Array): Float32Array;
  /** Σ g² of parameter k's mean gradient (0 without one) */
  squares(k: number): number;
  /** Σ g² over the whole mean gradient (float64, summed in parameter order), for the global-norm clipping */
  sumOfSquares(): number;
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
  /** the buffers' entries of the layout (offsets into the same memory) */
  private readonly bufferLayout: FlatLayout;
  /** one parameter's worth of floats, for means computed on the way */
  private readonly scratch: Float32Array;
  /** floats in the parameters' part of the layout (they come first) */
  private readonly paramFloats: number;
  /** the last step's shares (those computed on the trainer thread hold tensors) */
  private held: Share[] = [];
  /** the trainer's variables (attach) */
  private vars: tf.Variable[] | null = null;
  /** the shared weights changed since the variables were last set from them */
  private stale = false;
  /** the optimizer's state (attach); `update` applies steps to it */
  private optim: FlatOptimState | null = null;
  /** the helpers hold views on `optim` (it is in shared memory) and can run their ranges of a step */
  private optimShared = false;
  /** which helper computed each share of a step's gradient, for the helpers' parallel Σ g² and update */
  private readonly sharesOf = new WeakMap<FlatGradients, { peer: number; w: number; present: boolean[] }[]>();

  private constructor(
    private readonly helpers: GradHelper[],
    /** parameters (the first `paramCount` entries), then buffers */
    private readonly layout: FlatLayout,
    private readonly paramCount: number,
    private readonly buffers: tf.Variable[],
    /** what every helper reads at the start of a step */
    private readonly weights: Float32Array,
  ) {
    this.bufferLayout = { entries: layout.entries.slice(paramCount), size: layout.size };
    this.paramFloats = paramCount > 0 ? layout.entries[paramCount - 1].offset + layout.entries[paramCount - 1].size : 0;
    this.scratch = new Float32Array(Math.max(1, ...layout.entries.slice(0, paramCount).map((e) => e.size)));
  }

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
   * The parameters' values, shared with the helpers. From `attach` on they are the training's weights: `update`
   * changes them in place (anything else that writes them calls paramsChanged) and the variables follow on
   * syncModel.
   */
  get params(): Float32Array {
    return this.weights.subarray(0, this.paramFloats);
  }

  /**
   * Takes the trainer's parameters (its optimiser's order) and the model's BatchNorm statistics as the starting
   * weights: at the start of a run, and after anything set the variables from outside (a resume).
   */
  attach(vars: tf.Variable[], optim?: FlatOptimState): void {
    if (vars.length !== this.paramCount) throw new Error(`gradient pool: started for ${this.paramCount} parameters, attached to ${vars.length}`);
    vars.forEach((v, i) => {
      const e = this.layout.entries[i];
      if (v.size !== e.size) throw new Error(`gradient pool: parameter ${e.name} has ${e.size} values in the pool, ${v.size} in the trainer`);
    });
    this.vars = vars;
    writeVariables(this.layout, [...vars, ...this.buffers], this.weights);
    this.stale = false;
    if (optim && optim.entries.length !== this.paramCount) throw new Error(`gradient pool: optimizer state for ${optim.entries.length} parameters, ${this.paramCount} attached`);
    this.optim = optim ?? null;
    const shared = (a: { buffer: ArrayBufferLike } | null) => a === null || a.buffer instanceof SharedArrayBuffer;
    this.optimShared = !!optim && shared(optim.m) && shared(optim.v) && shared(optim.ema) && shared(optim.done);
    if (optim && this.optimShared) {
      const peers = this.helpers.map((h) => h.grads.buffer as SharedArrayBuffer);
      for (const h of this.helpers)
        h.optim({ peers, m: optim.m.buffer as SharedArrayBuffer, v: optim.v.buffer as SharedArrayBuffer, ema: (optim.ema?.buffer as SharedArrayBuffer) ?? null, done: optim.done.buffer as SharedArrayBuffer, decay: [...optim.decay] });
    }
  }

  /** The shared weights changed (an optimizer step): the variables are behind until syncModel. */
  paramsChanged(): void {
    this.stale = true;
  }

  /** Sets the model's variables (parameters and BatchNorm statistics) from the shared weights, if they are behind. */
  syncModel(): void {
    if (!this.stale || !this.vars) return;
    assignVariables(this.layout, [...this.vars, ...this.buffers], this.weights);
    this.stale = false;
  }

  /**
   * Loss and mean gradient of a batch at the shared weights: each micro-batch (gradient accumulation; usually
   * one) is computed in shares by the helpers, averaged by share size, and the micro-batches' means are averaged.
   * The BatchNorm statistics become the shares' weighted mean, micro-batch after micro-batch. A helper that
   * fails here is dropped (`onWarning` hears it once) and the trainer computes its share on its own variables.
   */
  async gradients(model: TaskModel, batches: readonly (readonly Sample[])[], vitSource: VitSource | null, onWarning?: (m: string) => void): Promise<FlatGradients> {
    if (batches.length === 1) return this.microBatch(model, batches[0], vitSource, onWarning);
    // the helpers' buffers are rewritten by each micro-batch: sum the means into an array of our own
    const sum = new Float32Array(this.paramFloats);
    const present = new Array<boolean>(this.paramCount).fill(false);
    let loss = 0;
    const parts: Record<string, number> = {};
    for (const b of batches) {
      const g = await this.microBatch(model, b, vitSource, onWarning);
      loss += g.loss / batches.length;
      for (const [k, v] of Object.entries(g.parts)) parts[k] = (parts[k] ?? 0) + v / batches.length;
      this.layout.entries.slice(0, this.paramCount).forEach((e, k) => {
        if (!g.present[k]) return;
        present[k] = true;
        addScaled(sum.subarray(e.offset, e.offset + e.size), g.mean(k, this.scratch), 1);
      });
    }
    for (let j = 0; j < sum.length; j++) sum[j] /= batches.length;
    return this.flatGradients(loss, parts, present, (k, out) => {
      const e = this.layout.entries[k];
      out.set(sum.subarray(e.offset, e.offset + e.size));
    });
  }

  private async microBatch(model: TaskModel, samples: readonly Sample[], vitSource: VitSource | null, onWarning?: (m: string) => void): Promise<FlatGradients> {
    const vars = this.vars;
    if (!vars) throw new Error('gradient pool: attach the trainer\'s parameters first');
    for (const h of this.helpers) if (h.dead) this.warnOnce(h, onWarning);
    const live = this.helpers.filter((h) => h.alive);
    const shares = split(samples, Math.max(1, Math.min(live.length, samples.length)));
    // every share's ViT pass first: a failing source (a data problem) throws here, before any helper is asked,
    // instead of being taken for a helper's failure
    const vits: (VitArrays | null)[] = [];
    for (const s of shares) vits.push(vitSource ? (vitSource.arrays ? await vitSource.arrays(s) : vitArrays(await vitSource(s))) : null);
    const asked = shares.map((share, i) => {
      const result = live[i] ? live[i].compute(share, vits[i]) : Promise.reject(new Error('no gradient helper left'));
      // a rejection is handled below, once every share is out; keep it from counting as unhandled meanwhile
      result.catch(() => {});
      return { helper: live[i] as GradHelper | undefined, share, result };
    });
    const done: (Share & { buffers: Float32Array[] })[] = [];
    try {
      for (const a of asked) {
        try {
          const res = await a.result;
          done.push({ ...this.helperShare(a.helper!, res), n: a.share.length, buffers: this.bufferValues(a.helper!.grads), peer: this.helpers.indexOf(a.helper!) });
        } catch (err) {
          if (a.helper) {
            a.helper.fail((err as Error).message);
            this.warnOnce(a.helper, onWarning);
          }
          // on the trainer's variables, from the step's weights and statistics, like the helper would have
          this.syncModel();
          this.restoreBuffers();
          const g = await localShare(model, a.share, vitSource, vars);
          done.push({ ...tensorShare(g, a.share.length, vars), buffers: this.buffers.map((b) => Float32Array.from(readValues(b))), peer: null });
        }
      }
    } catch (err) {
      for (const d of done) d.dispose();
      this.restoreBuffers();
      throw err;
    }
    this.averageBuffers(done);
    return this.average(done);
  }

  private warnOnce(h: GradHelper, onWarning?: (m: string) => void): void {
    if (this.warned.has(h)) return;
    this.warned.add(h);
    onWarning?.(`a gradient helper thread stopped (${h.dead}); ${this.size > 0 ? `training continues with ${this.size}` : 'training continues on the trainer thread'}`);
  }

  /** a helper's share read in place from its shared buffer (no tensors: the average is the only copy made) */
  private helperShare(helper: GradHelper, res: HelperResult): Omit<Share, 'n' | 'peer'> {
    const entries = this.layout.entries;
    return {
      loss: res.loss,
      parts: res.parts,
      has: (i) => res.present[i],
      values: (i) => (res.present[i] ? helper.grads.subarray(entries[i].offset, entries[i].offset + entries[i].size) : null),
      dispose: () => {},
    };
  }

  private bufferValues(src: Float32Array): Float32Array[] {
    return this.bufferLayout.entries.map((e) => src.slice(e.offset, e.offset + e.size));
  }

  /** the variables' buffers as they were at the start of the step */
  private restoreBuffers(): void {
    assignVariables(this.bufferLayout, this.buffers, this.weights);
  }

  /** shared buffers = Σ (share size / batch) · the share's updated buffers; the variables follow on syncModel */
  private averageBuffers(shares: readonly { n: number; buffers: Float32Array[] }[]): void {
    const total = shares.reduce((a, s) => a + s.n, 0);
    this.bufferLayout.entries.forEach((e, i) => {
      const out = this.weights.subarray(e.offset, e.offset + e.size);
      out.fill(0);
      for (const s of shares) {
        const x = s.buffers[i];
        const w = s.n / total;
        for (let j = 0; j < out.length; j++) out[j] += w * x[j];
      }
    });
    if (this.bufferLayout.entries.length > 0) this.stale = true;
  }

  /**
   * The batch's loss and gradient: the share-size-weighted mean of the shares'. A share computed on the trainer
   * thread holds tensors until the pool's next step (its values are read in place when the mean is asked for).
   */
  private average(shares: readonly Share[]): FlatGradients {
    for (const s of this.held) s.dispose();
    this.held = [...shares];
    const { w, loss, parts } = weighted(shares);
    const present = Array.from({ length: this.paramCount }, (_, k) => shares.some((s) => s.has(k)));
    const partsOf = (k: number): SharePart[] => shares.map((s, i) => ({ w: w[i], x: s.values(k) }));
    const e = (k: number) => this.layout.entries[k];
    const g = this.flatGradients(loss, parts, present, (k, out) => meanOf(partsOf(k), out), (k) => squaresOfMean(partsOf(k), this.scratch.subarray(0, e(k).size)));
    if (shares.every((s) => s.peer !== null)) this.sharesOf.set(g, shares.map((s, i) => ({ peer: s.peer!, w: w[i], present: Array.from({ length: this.paramCount }, (_, k) => s.has(k)) })));
    return g;
  }

  private flatGradients(loss: number, parts: Record<string, number>, present: boolean[], fill: (k: number, out: Float32Array) => void, squares?: (k: number) => number): FlatGradients {
    const mean = (k: number, out: Float32Array) => {
      const dst = out.subarray(0, this.layout.entries[k].size);
      if (present[k]) fill(k, dst);
      else dst.fill(0);
      return dst;
    };
    const sq = (k: number) => (!present[k] ? 0 : squares ? squares(k) : sumOfSquares(mean(k, this.scratch)));
    return {
      loss,
      parts,
      present,
      mean,
      squares: sq,
      sumOfSquares: () => {
        let sum = 0;
        for (let k = 0; k < this.paramCount; k++) if (present[k]) sum += sq(k);
        return sum;
      },
    };
  }

  /**
   * The helpers that can share the serial part of the step after `g`: the optimizer's state is in shared memory,
   * every share of `g` came from a helper (not the trainer thread, not accumulated micro-batches) and at least two
   * helpers are alive. Null: the trainer does it alone.
   */
  private shardsFor(g: FlatGradients): { shares: { peer: number; w: number; present: boolean[] }[]; helpers: GradHelper[] } | null {
    const shares = this.sharesOf.get(g);
    const helpers = this.helpers.filter((h) => h.alive);
    if (!this.optimShared || !shares || helpers.length < 2) return null;
    return { shares, helpers };
  }

  /**
   * Σ g² of `g` (for the global-norm clipping): per parameter on the helpers, one range each, summed here in
   * parameter order (the same float64 sum as g.sumOfSquares()). A helper that fails has its range done here.
   */
  async sumOfSquares(g: FlatGradients, onWarning?: (m: string) => void): Promise<number> {
    const sh = this.shardsFor(g);
    if (!sh) return g.sumOfSquares();
    const sums = new Float64Array(this.paramCount);
    const ranges = splitParams(this.layout.entries.slice(0, this.paramCount), sh.helpers.length);
    await Promise.all(
      ranges.map(async ([k0, k1], i) => {
        try {
          sums.set(await sh.helpers[i].squares({ k0, k1, shares: sh.shares }), k0);
        } catch (err) {
          this.dropHelper(sh.helpers[i], err, onWarning);
          for (let k = k0; k < k1; k++) sums[k] = g.squares(k);
        }
      }),
    );
    let sum = 0;
    for (let k = 0; k < this.paramCount; k++) if (g.present[k]) sum += sums[k];
    return sum;
  }

  /**
   * Applies optimizer step `s` with gradient `g` to the shared weights and the optimizer state `attach` was
   * given: AdamW, then the moving average, on the helpers in parallel (one range of parameters each) or here. A
   * helper that fails part-way has the parameters it did not finish done here (state.done), once its thread has
   * stopped.
   */
  async update(g: FlatGradients, s: FlatStep, onWarning?: (m: string) => void): Promise<void> {
    const state = this.optim;
    if (!state) throw new Error('gradient pool: attach the optimizer state before an update');
    const local = (k0: number, k1: number) => updateParams(state, this.weights, (k, out) => (g.present[k] ? g.mean(k, out) : null), k0, k1, s, this.scratch);
    const sh = this.shardsFor(g);
    try {
      if (!sh) return local(0, this.paramCount);
      const ranges = splitParams(this.layout.entries.slice(0, this.paramCount), sh.helpers.length);
      await Promise.all(
        ranges.map(async ([k0, k1], i) => {
          try {
            await sh.helpers[i].update({ k0, k1, shares: sh.shares, step: s });
          } catch (err) {
            this.dropHelper(sh.helpers[i], err, onWarning);
            await sh.helpers[i].exited;
            local(k0, k1);
          }
        }),
      );
    } finally {
      this.stale = true;
    }
  }

  private dropHelper(h: GradHelper, err: unknown, onWarning?: (m: string) => void): void {
    h.fail((err as Error).message);
    this.warnOnce(h, onWarning);
  }

  async close(): Promise<void> {
    for (const s of this.held) s.dispose();
    this.held = [];
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
  /** the helper's position in the pool; null: computed on the trainer thread */
  peer: number | null;
  loss: number;
  parts: Record<string, number>;
  has(i: number): boolean;
  values(i: number): Float32Array | null;
  dispose(): void;
}

function tensorShare(g: StepGradients, n: number, vars: readonly tf.Variable[]): Omit<Share, 'peer'> {
  return {
    n,
    loss: g.loss,
    parts: g.parts,
    has: (i) => !!g.grads[vars[i].name],
    // views on backend memory: valid until the next allocation, so read just before use
    values: (i) => (g.grads[vars[i].name] ? readValues(g.grads[vars[i].name]) : null),
    dispose: () => tf.dispose(Object.values(g.grads)),
  };
}

/** The shares' weights (share size / batch) and their weighted loss and loss parts. */
function weighted(shares: readonly { n: number; loss: number; parts: Record<string, number> }[]): { w: number[]; loss: number; parts: Record<string, number> } {
  const total = shares.reduce((a, s) => a + s.n, 0);
  const w = shares.map((s) => s.n / total);
  const parts: Record<string, number> = {};
  for (const k of new Set(shares.flatMap((s) => Object.keys(s.parts)))) parts[k] = shares.reduce((a, s, i) => a + w[i] * (s.parts[k] ?? 0), 0);
  return { w, loss: shares.reduce((a, s, i) => a + w[i] * s.loss, 0), parts };
}
