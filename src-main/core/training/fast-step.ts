// One optimisation step of fast incremental mode: the ViT pass comes from the feature cache, so only the side
// network and the task heads run forward and backward. Gradients are taken w.r.t. the side network, bridges
// and heads only — the Meta Tokens and the ViT block LayerNorms are frozen in this mode (they are what the
// cached outputs were computed with; see features/frozen-version.ts). The loss is the trainer's own
// (TaskModel.heads.loss on the side network's stage outputs); AdamW and clipping are the trainer's.
import { tf } from '../compute/engine';
import { isFrozenInFastMode } from '../features/frozen-version';
import type { VitOutput } from '../model/hst';
import type { PreparedTargets } from '../heads/multi-task';
import { AdamW, type OptimParam } from './optim/adamw';
import { clipCoefficient, disposeGrads, globalNorm } from './optim/clip';
import { TaskModel } from '../task-model/task-model';
import type { Sample } from '../data/types';

/** What fast mode optimises: the model's trainable set minus the parameters frozen in fast mode. */
export function fastOptimParams(model: TaskModel): OptimParam[] {
  const frozen = new Set<string>();
  for (const e of model.hst.store.entries.values()) if (isFrozenInFastMode(e)) frozen.add(e.name);
  return model.optimParams().filter((p) => !frozen.has(p.name));
}

/** What a run in `mode` optimises: everything trainable (full), or the fast set (fast). */
export function optimParamsFor(model: TaskModel, mode: 'fast' | 'full'): OptimParam[] {
  return mode === 'full' ? model.optimParams() : fastOptimParams(model);
}

/** Side network + heads loss from a cached (or precomputed) ViT pass; call inside tf.variableGrads/tidy. */
export function fastLoss(model: TaskModel, x: tf.Tensor4D, vit: VitOutput, targets: PreparedTargets, training = true) {
  const side = model.hst.sideForward(x, vit, { training });
  return model.heads.loss(side.stages, targets);
}

/**
 * Loss parts and gradients w.r.t. `vars` for one batch, the ViT pass from `vit` (fast: disposed here) or run on
 * the fly (null). The one loss-and-gradient step of the Trainer and of incremental updates.
 */
export async function lossAndGrads(
  model: TaskModel,
  samples: readonly Sample[],
  vit: VitOutput | null,
  vars: tf.Variable[],
): Promise<{ loss: number; parts: Record<string, number>; grads: Record<string, tf.Tensor> }> {
  const targets = model.prepareTargets(samples);
  const x = TaskModel.batchTensor(samples);
  let kept: Record<string, tf.Scalar> = {};
  let value: tf.Scalar;
  let grads: Record<string, tf.Tensor>;
  try {
    ({ value, grads } = tf.variableGrads(() => {
      const r = vit ? fastLoss(model, x, vit, targets, true) : model.lossFor(x, targets, true);
      kept = Object.fromEntries(Object.entries(r.parts).map(([k, v]) => [k, tf.keep(v)]));
      return r.total;
    }, vars));
  } finally {
    x.dispose();
    if (vit) tf.dispose([...vit.metaOut, ...vit.patches]);
  }
  const loss = (await value.data())[0];
  value.dispose();
  const parts: Record<string, number> = {};
  for (const [k, v] of Object.entries(kept)) {
    parts[k] = v.dataSync()[0];
    v.dispose();
  }
  return { loss, parts, grads };
}

export interface FastStepResult {
  loss: number;
  parts: Record<string, number>;
  gradNorm: number;
}

/**
 * Optimises a TaskModel from a warm start. mode 'fast' (default): side network + heads from a cached ViT pass;
 * mode 'full': the whole trainable set (MetaT and ViT LayerNorms too) with the ViT run on the fly, for when no
 * cache is possible.
 */
export class FastStepper {
  readonly params: OptimParam[];
  private readonly optimizer: AdamW;
  private readonly vars: tf.Variable[];

  constructor(
    readonly model: TaskModel,
    readonly opts: { lr: number; weightDecay?: number; clipNorm?: number; mode?: 'fast' | 'full' },
  ) {
    this.params = optimParamsFor(model, opts.mode ?? 'fast');
    this.vars = this.params.map((p) => p.variable);
    this.optimizer = new AdamW(this.params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0.05 });
  }

  /**
   * One step on `samples` (network inputs + targets) with `vit` = their cached ViT pass (same order, batch
   * size = samples.length; null in full mode: the ViT runs on the fly). Disposes `vit`. Throws on a
   * non-finite loss without touching the weights.
   */
  async step(samples: readonly Sample[], vit: VitOutput | null, lr = this.opts.lr): Promise<FastStepResult> {
    if (!vit && this.opts.mode !== 'full') throw new Error('FastStepper: fast mode needs the cached ViT pass of the batch');
    const { loss, parts, grads } = await lossAndGrads(this.model, samples, vit, this.vars);
    const clip = this.opts.clipNorm ?? 1;
    const gradNorm = globalNorm(grads);
    const gradScale = clip > 0 ? clipCoefficient(gradNorm, clip) : 1;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      disposeGrads(grads);
      throw new Error(`incremental update: the loss is not finite (${Object.entries(parts).map(([k, v]) => `${k}=${v}`).join(', ')}); the model was left unchanged for this step`);
    }
    this.optimizer.applyGradients(grads, lr, gradScale);
    disposeGrads(grads);
    return { loss, parts, gradNorm };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
