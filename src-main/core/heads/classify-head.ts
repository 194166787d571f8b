// The HST classification head (spec §3.9): mean over the stage-4 tokens → BatchNorm1d(C, affine=False, eps 1e-6)
// (batch statistics in training, running statistics in eval; momentum 0.1, running variance unbiased as in PyTorch)
// → Linear(C → K). Parameter names are the official ones (`fc_norm.running_mean/var`, `head.weight/bias`) so the
// authors' checkpoints load unchanged; give this head the root store (empty prefix).
import { tf } from '../compute/engine';
import { crossEntropyWithIgnore } from '../losses/cross-entropy';
import type { ParamStore } from './layers/params';

export interface ClassifyHeadOptions {
  /** Channels of stage 4 (72 for the classification widths, 384 dense). */
  inChannels: number;
  numClasses: number;
  eps?: number; // 1e-6
  momentum?: number; // 0.1
  labelSmoothing?: number; // 0
}

export class ClassifyHead {
  readonly runningMean: tf.Variable; // [C]
  readonly runningVar: tf.Variable; // [C]
  readonly weight: tf.Variable; // [C, K]  (torch (K, C))
  readonly bias: tf.Variable; // [K]
  private readonly eps: number;
  private readonly momentum: number;

  constructor(store: ParamStore, readonly opts: ClassifyHeadOptions) {
    if (!(opts.numClasses >= 2)) throw new Error(`Classification head: numClasses must be ≥ 2 (got ${opts.numClasses}).`);
    const c = opts.inChannels;
    this.runningMean = store.scope('fc_norm').add('running_mean', [c], { kind: 'const', value: 0 }, 'plain', true);
    this.runningVar = store.scope('fc_norm').add('running_var', [c], { kind: 'const', value: 1 }, 'plain', true);
    this.weight = store.scope('head').add('weight', [c, opts.numClasses], { kind: 'truncNormal', std: 0.02 }, 'linear');
    this.bias = store.scope('head').add('bias', [opts.numClasses], { kind: 'const', value: 0 }, 'plain');
    this.eps = opts.eps ?? 1e-6;
    this.momentum = opts.momentum ?? 0.1;
  }

  /**
   * stage4 [B, h, w, C] → logits [B, K]. With `training`, normalises by the batch statistics and updates the running
   * statistics (the update is a side effect outside the gradient).
   */
  forward(stage4: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const pooled = tf.mean(stage4, [1, 2]) as tf.Tensor2D; // [B, C]
    let normed: tf.Tensor;
    if (training) {
      const n = pooled.shape[0];
      const { mean, variance } = tf.moments(pooled, 0);
      normed = tf.div(tf.sub(pooled, mean), tf.sqrt(tf.add(variance, this.eps)));
      tf.tidy(() => {
        const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
        this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - this.momentum), tf.mul(mean, this.momentum)));
        this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - this.momentum), tf.mul(unbiased, this.momentum)));
      });
    } else {
      normed = tf.div(tf.sub(pooled, this.runningMean), tf.sqrt(tf.add(this.runningVar, this.eps)));
    }
    return tf.add(tf.matMul(normed as tf.Tensor2D, this.weight as tf.Tensor2D), this.bias) as tf.Tensor2D;
  }

  /** labels [B] class indices (−1 or 255 = unlabelled, ignored). */
  loss(logits: tf.Tensor2D, labels: ArrayLike<number>): { cls_ce: tf.Scalar } {
    return tf.tidy(() => {
      const lab = Int32Array.from(labels, (v) => (v < 0 ? 255 : v));
      return { cls_ce: crossEntropyWithIgnore(logits, tf.tensor1d(lab, 'int32'), 255, this.opts.labelSmoothing ?? 0) };
    });
  }

  /** Softmax probabilities per image. */
  async predict(logits: tf.Tensor2D): Promise<Float32Array[]> {
    const p = tf.softmax(logits);
    const d = (await p.data()) as Float32Array;
    p.dispose();
    const [b, k] = logits.shape;
    return Array.from({ length: b }, (_, i) => d.slice(i * k, (i + 1) * k));
  }
}
