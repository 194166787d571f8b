// The training loop: AdamW (no decay on norms/biases), warm-up + cosine, global-norm clipping, optional
// gradient accumulation, progress events, cancel, checkpoints that make a resumed run reproduce an
// uninterrupted one, and a hard stop on a non-finite loss that keeps the last good checkpoint.
//
// Everything a step depends on is either in the checkpoint or derived from it: parameters and BatchNorm
// statistics (model.safetensors), AdamW moments and t (optimizer.safetensors), the augmentation RNG state and
// the data cursor (state.json). The data order is a pure function of (seed, epoch), so the cursor alone
// (samples consumed so far) says which images come next.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../compute/engine';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors, type StTensor } from '../io/safetensors';
import type { DataPipeline } from '../data/pipeline';
import { Rng, type RngState } from '../data/rng';
import type { Sample } from '../data/types';
import { AdamW } from './optim/adamw';
import { FlatAdamW } from './optim/adamw-flat';
import { clipCoefficient, disposeGrads, globalNorm, GradAccumulator } from './optim/clip';
import { WeightEma } from './optim/ema';
import type { FlatOptimState } from './optim/flat-update';
import { warmupCosineLr } from './optim/schedule';
import { TaskModel } from '../task-model/task-model';
import type { VitSource } from '../features/types';

import { lossAndGrads, optimParamsFor } from './fast-step';
import type { GradPool } from './parallel/grad-pool';


export interface TrainOptions {
  /** optimizer steps in the whole run (a resumed run keeps the original total) */
  steps: number;
  batchSize: number;
  /** micro-batches per optimizer step (default 1) */
  accumulate?: number;
  lr: number;
  weightDecay?: number; // 0.05
  /** AdamW's second-moment decay (default 0.999) */
  beta2?: number;
  warmupSteps?: number; // default min(100, steps/10)
  minLr?: number; // default lr/100
  clipNorm?: number; // default 1.0; 0 = off
  seed: number;
  /** write a checkpoint every N optimizer steps (and always at the end); 0 = only at the end */
  checkpointEvery?: number;
  /** checkpoint folder; no checkpoints without it */
  checkpointDir?: string;
  /** decay cap of the weights' moving average (optim/ema.ts) that evaluations and the saved model use; 0 = off */
  emaDecay?: number;
}

export interface TrainerExtras {
  /**
   * Fast mode: the ViT pass comes from here and only the side network, bridges and heads train (the Meta
   * Tokens and ViT LayerNorms stay as they are, so cached ViT outputs stay valid). The data pipeline must then
   * only augment in ways the source knows (flips: Sample.transform.flipped).
   */
  vitSource?: VitSource;
  /**
   * Data-parallel: each batch is split between these gradient helper threads (parallel/grad-pool.ts), and the
   * weights live in the pool's shared memory during a run (the model's variables follow whenever something reads
   * the model through the trainer: evaluations, checkpoints, the end of the run). The trainer does not own the
   * helpers (the caller closes the pool).
   */
  pool?: GradPool | null;
}

export type TrainEvent =
  | { type: 'start'; step: number; totalSteps: number; resumed: boolean; trainableParams: number; images: number }
  | { type: 'step'; step: number; totalSteps: number; loss: number; parts: Record<string, number>; lr: number; gradNorm: number; imagesPerSec: number; etaSec: number }
  | { type: 'checkpoint'; step: number; dir: string }
  | { type: 'warning'; message: string };

/** One optimizer step's gradients, before the update: the loss and norm decide whether and how it applies. */
interface PendingStep {
  loss: number;
  parts: Record<string, number>;
  images: number;
  norm: number;
  /** the AdamW update (gradients scaled by `gradScale`) and the moving average's */
  apply(lr: number, gradScale: number): void | Promise<void>;
  discard(): void;
}

export interface TrainResult {
  status: 'done' | 'cancelled';
  step: number;
  /** the last step's loss */
  loss: number;
  seconds: number;
  checkpoint: string | null;
}

/** A non-finite loss or gradient; the run stops and the last good checkpoint stays as it was. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly parts: Record<string, number>,
    readonly lastCheckpoint: string | null,
  ) {
    const bad = Object.entries(parts)
      .filter(([, v]) => !Number.isFinite(v))
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    super(
      `training stopped at step ${step}: the loss is not finite (${bad || 'gradient norm not finite'}); ` +
        (lastCheckpoint ? `the last good checkpoint is kept at ${lastCheckpoint}` : 'no checkpoint had been written yet') +
        '. Try a lower learning rate, or check the data for broken images/annotations.',
    );
    this.name = 'NonFiniteLossError';
  }
}

interface CheckpointState {
  version: 1;
  step: number;
  /** samples consumed (data order position) */
  cursor: number;
  rng: RngState;
  options: TrainOptions;
  lastLoss: number;
}

const LATEST = 'latest.json';
const EMA_FILE = 'ema.safetensors';

/** The folder of the newest complete checkpoint under `dir`, or null. */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  const p = join(dir, LATEST);
  if (!existsSync(p)) return null;
  const { name } = JSON.parse(await readFile(p, 'utf8')) as { name: string };
  const full = join(dir, name);
  return existsSync(join(full, 'state.json')) ? full : null;
}

export async function readCheckpointState(ckpt: string): Promise<CheckpointState> {
  return JSON.parse(await readFile(join(ckpt, 'state.json'), 'utf8')) as CheckpointState;
}

export class Trainer {
  readonly opts: Required<Omit<TrainOptions, 'checkpointDir'>> & { checkpointDir?: string };
  /** per-parameter tensors, or one flat array when the weights live in a gradient pool's shared memory */
  private readonly optimizer: AdamW | FlatAdamW;
  private ema: WeightEma | null;
  private step = 0;
  private cursor = 0;
  private rng: Rng;
  private lastCheckpoint: string | null = null;
  private lastLoss = NaN;

  private readonly vitSource: VitSource | null;
  private readonly pool: GradPool | null;
  private readonly params: ReturnType<TaskModel['optimParams']>;

  constructor(
    readonly model: TaskModel,
    readonly data: DataPipeline,
    opts: TrainOptions,
    extras: TrainerExtras = {},
  ) {
    if (!(Number.isInteger(opts.steps) && opts.steps > 0)) throw new Error(`training: steps must be a positive integer, got ${opts.steps}`);
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) throw new Error(`training: batch size must be a positive integer, got ${opts.batchSize}`);
    if (!(opts.lr > 0)) throw new Error(`training: learning rate must be positive, got ${opts.lr}`);
    if (data.length === 0) throw new Error('training: the training split has no images');
    this.opts = {
      accumulate: 1,
      weightDecay: 0.05,
      beta2: 0.999,
      warmupSteps: Math.min(100, Math.floor(opts.steps / 10)),
      minLr: opts.lr / 100,
      clipNorm: 1,
      checkpointEvery: 0,
      emaDecay: 0,
      ...opts,
    };
    this.vitSource = extras.vitSource ?? null;
    this.pool = extras.pool ?? null;
    this.params = optimParamsFor(model, this.vitSource ? 'fast' : 'full');
    const adamw = { lr: opts.lr, weightDecay: this.opts.weightDecay, beta2: this.opts.beta2 };
    // with helpers, the optimizer's state and the average live in shared memory, where the helpers update them
    this.optimizer = this.pool ? new FlatAdamW(this.params, { ...adamw, shared: true }) : new AdamW(this.params, adamw);
    this.ema = this.opts.emaDecay > 0 ? new WeightEma(this.params, this.opts.emaDecay, this.pool ? { flat: true, shared: true } : undefined) : null;
    this.rng = new Rng(opts.seed, 0xa06);
  }

  /**
   * Runs `fn` (an evaluation) with the weights the run would save now: the moving average when the run keeps
   * one, else the current ones. The trained weights are back in place afterwards.
   */
  withEvalWeights<T>(fn: () => Promise<T>): Promise<T> {
    this.pool?.syncModel();
    return this.ema ? this.ema.withAverage(fn) : fn();
  }

  /** At the end of a run: puts the moving average (if kept) into the model, which is then evaluated and saved. */
  useAveragedWeights(): void {
    this.pool?.syncModel();
    this.ema?.copyIntoModel();
  }

  /** 'fast': side network + heads from a ViT source; 'full': the whole trainable set, ViT on the fly */
  get mode(): 'fast' | 'full' {
    return this.vitSource ? 'fast' : 'full';
  }

  /** Parameters this trainer optimises (fast mode leaves out the Meta Tokens and ViT LayerNorms). */
  get trainableParamCount(): number {
    return this.params.reduce((n, p) => n + p.variable.size, 0);
  }

  get currentStep(): number {
    return this.step;
  }

  /** Restores parameters, optimizer, step, RNG and data position from a checkpoint folder. */
  async resume(ckpt: string): Promise<void> {
    const state = await readCheckpointState(ckpt);
    const model = await readSafetensors(join(ckpt, 'model.safetensors'));
    this.model.importTensors(model.tensors, join(ckpt, 'model.safetensors'));
    const opt = await readSafetensors(join(ckpt, 'optimizer.safetensors'));
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of opt.tensors) tensors[k] = tf.tensor(toFloat32(v, k), v.shape);
    try {
      this.optimizer.importState(tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
    if (this.ema) {
      const p = join(ckpt, EMA_FILE);
      // a checkpoint written without an average (older studio, or a run started without one) starts it afresh
      if (existsSync(p)) this.ema.importState((await readSafetensors(p)).tensors);
      else this.ema.restart();
    }
    this.step = state.step;
    this.cursor = state.cursor;
    this.rng = Rng.fromState(state.rng);
    this.lastLoss = state.lastLoss;
    this.lastCheckpoint = ckpt;
  }

  /** Image indices of the next micro-batch, continuing the (seed, epoch) shuffles across epoch boundaries. */
  private nextIndices(): number[] {
    const n = this.data.length;
    const out: number[] = [];
    let order: number[] | null = null;
    let orderEpoch = -1;
    for (let i = 0; i < this.opts.batchSize; i++) {
      const epoch = Math.floor(this.cursor / n);
      if (epoch !== orderEpoch) {
        order = this.data.epochOrder(epoch);
        orderEpoch = epoch;
      }
      out.push(order![this.cursor % n]);
      this.cursor++;
    }
    return out;
  }

  private async nextBatch(onEvent?: (e: TrainEvent) => void): Promise<Sample[]> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const batch = await this.data.batch(this.nextIndices(), this.rng);
      if (batch.length > 0) return batch;
      onEvent?.({ type: 'warning', message: 'a whole batch failed to decode and was skipped' });
    }
    throw new Error('training: 8 batches in a row had no decodable image; check the dataset');
  }

  /**
   * `afterStep` runs (awaited) after each optimizer step and its checkpoint, e.g. a periodic evaluation; the
   * time it takes is not counted in images/s and ETA.
   */
  async run(opts: { signal?: AbortSignal; onEvent?: (e: TrainEvent) => void; afterStep?: (step: number) => Promise<void> } = {}): Promise<TrainResult> {
    const { signal, onEvent } = opts;
    let pausedMs = 0;
    const o = this.opts;
    const t0 = Date.now();
    const startStep = this.step;
    onEvent?.({ type: 'start', step: this.step, totalSteps: o.steps, resumed: startStep > 0, trainableParams: this.trainableParamCount, images: this.data.length });
    const vars = this.params.map((p) => p.variable);
    // the weights as they are now (a resume may have set them) are the helpers' from here on
    this.pool?.attach(vars, this.flatState());
    let imagesSeen = 0;
    const acc = new GradAccumulator();
    try {
      while (this.step < o.steps) {
        if (signal?.aborted) return { status: 'cancelled', step: this.step, loss: this.lastLoss, seconds: (Date.now() - t0) / 1000, checkpoint: this.lastCheckpoint };
        const lr = warmupCosineLr(this.step, { baseLr: o.lr, totalSteps: o.steps, warmupSteps: o.warmupSteps, warmupInitLr: o.lr / 100, minLr: o.minLr });
        const g = this.pool ? await this.poolGradients(this.pool, onEvent) : await this.tensorGradients(vars, acc, onEvent);
        imagesSeen += g.images;
        const { loss, parts, norm: gradNorm } = g;
        // clipping scales the gradients inside the optimizer update (no scaled copies)
        const gradScale = o.clipNorm > 0 ? clipCoefficient(gradNorm, o.clipNorm) : 1;
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
          g.discard();
          throw new NonFiniteLossError(this.step + 1, { ...parts, total: loss }, this.lastCheckpoint);
        }
        await g.apply(lr, gradScale);
        this.step++;
        this.lastLoss = loss;
        const secs = (Date.now() - t0 - pausedMs) / 1000;
        const ips = imagesSeen / Math.max(secs, 1e-6);
        const perStep = secs / (this.step - startStep);
        onEvent?.({ type: 'step', step: this.step, totalSteps: o.steps, loss, parts, lr, gradNorm, imagesPerSec: ips, etaSec: perStep * (o.steps - this.step) });
        const atEnd = this.step === o.steps;
        if (o.checkpointDir && (atEnd || (o.checkpointEvery > 0 && this.step % o.checkpointEvery === 0))) {
          const dir = await this.saveCheckpoint(o.checkpointDir);
          onEvent?.({ type: 'checkpoint', step: this.step, dir });
        }
        if (opts.afterStep) {
          const ta = Date.now();
          await opts.afterStep(this.step);
          pausedMs += Date.now() - ta;
        }
        // let cancel messages and progress posts through between steps
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      acc.dispose();
      // whoever reads the model next (the caller, after a cancel or an error too) sees the trained weights
      this.pool?.syncModel();
    }
    return { status: 'done', step: this.step, loss: this.lastLoss, seconds: (Date.now() - t0) / 1000, checkpoint: this.lastCheckpoint };
  }

  /** The mean gradient of the next `accumulate` micro-batches, on the trainer's backend. */
  private async tensorGradients(vars: tf.Variable[], acc: GradAccumulator, onEvent?: (e: TrainEvent) => void): Promise<PendingStep> {
    const o = this.opts;
    const optimizer = this.optimizer as AdamW;
    const parts: Record<string, number> = {};
    let loss = 0;
    let images = 0;
    for (let m = 0; m < o.accumulate; m++) {
      const samples = await this.nextBatch(onEvent);
      images += samples.length;
      const r = await lossAndGrads(this.model, samples, this.vitSource ? await this.vitSource(samples) : null, vars);
      for (const [k, v] of Object.entries(r.parts)) parts[k] = (parts[k] ?? 0) + v / o.accumulate;
      loss += r.loss / o.accumulate;
      acc.add(r.grads);
    }
    const grads = acc.takeMean();
    return {
      loss,
      parts,
      images,
      norm: globalNorm(grads),
      apply: (lr, gradScale) => {
        optimizer.applyGradients(grads, lr, gradScale);
        disposeGrads(grads);
        this.ema?.update();
      },
      discard: () => disposeGrads(grads),
    };
  }

  /** The mean gradient of the next `accumulate` micro-batches from the gradient helpers, in the pool's flat layout. */
  private async poolGradients(pool: GradPool, onEvent?: (e: TrainEvent) => void): Promise<PendingStep> {
    const optimizer = this.optimizer as FlatAdamW;
    const batches: Sample[][] = [];
    for (let m = 0; m < this.opts.accumulate; m++) batches.push(await this.nextBatch(onEvent));
    const warn = (message: string) => onEvent?.({ type: 'warning', message });
    const g = await pool.gradients(this.model, batches, this.vitSource, warn);
    return {
      loss: g.loss,
      parts: g.parts,
      images: batches.reduce((n, b) => n + b.length, 0),
      norm: Math.sqrt(await pool.sumOfSquares(g, warn)),
      apply: (lr, gradScale) => pool.update(g, optimizer.begin(lr, gradScale, this.ema ? this.ema.advance() : null), warn),
      discard: () => {},
    };
  }

  /** The flat optimizer's state with the moving average's shadow weights (data-parallel runs only). */
  private flatState(): FlatOptimState | undefined {
    if (!(this.optimizer instanceof FlatAdamW)) return undefined;
    return { ...this.optimizer.state, ema: this.ema?.flat ?? null };
  }

  /** Writes `<dir>/step-NNNNNN/` completely, then points latest.json at it (atomic rename), then prunes. */
  async saveCheckpoint(dir: string): Promise<string> {
    this.pool?.syncModel();
    await mkdir(dir, { recursive: true });
    const name = `step-${String(this.step).padStart(6, '0')}`;
    const final = join(dir, name);
    const tmp = join(dir, `.${name}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await writeSafetensors(join(tmp, 'model.safetensors'), this.model.exportTensors(), { format: 'pt', kind: 'hst-task-model' });
    const st = this.optimizer.exportState();
    const opt = new Map<string, StTensor>();
    for (const [k, t] of Object.entries(st)) opt.set(k, f32Tensor(Float32Array.from(t.dataSync(), Number), t.shape));
    tf.dispose(Object.values(st));
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), opt, { kind: 'adamw-state' });
    if (this.ema) await writeSafetensors(join(tmp, EMA_FILE), this.ema.exportState(), { kind: 'weight-ema' });
    const state: CheckpointState = { version: 1, step: this.step, cursor: this.cursor, rng: this.rng.getState(), options: this.opts, lastLoss: this.lastLoss };
    await writeFile(join(tmp, 'state.json'), JSON.stringify(state, null, 1));
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    await writeFile(join(dir, LATEST + '.tmp'), JSON.stringify({ name, step: this.step }));
    await rename(join(dir, LATEST + '.tmp'), join(dir, LATEST));
    const prev = this.lastCheckpoint;
    this.lastCheckpoint = final;
    if (prev && prev !== final && prev.startsWith(dir)) await rm(prev, { recursive: true, force: true });
    return final;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
