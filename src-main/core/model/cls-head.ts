// Classification head (spec §3.9): mean of the stage-4 tokens → BatchNorm1d(affine=False, eps 1e-6) → Linear.
import { tf } from '../compute/engine';
import { batchNorm, linear } from './layers';
import { ones, truncNormal, zeros } from './init';
import type { ParamStore } from './params';

export const FC_NORM_EPS = 1e-6;

export class ClsHead {
  readonly runMean: tf.Variable; readonly runVar: tf.Variable;
  readonly w: tf.Variable; readonly b: tf.Variable;
  /** PyTorch's value; public so parity tests can show that changing it breaks parity */
  eps = FC_NORM_EPS;

  constructor(store: ParamStore, dim: number, numClasses: number) {
    this.runMean = store.add('fc_norm.running_mean', [dim], 'plain', zeros(), { buffer: true });
    this.runVar = store.add('fc_norm.running_var', [dim], 'plain', ones(), { buffer: true });
    this.w = store.add('head.weight', [numClasses, dim], 'linear', truncNormal(store.seeds));
    this.b = store.add('head.bias', [numClasses], 'plain', zeros());
  }

  /** stage-4 map [B, h, w, C] → logits [B, K] */
  forward(stage4: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const pooled = tf.mean(stage4, [1, 2]); // [B, C]
    const normed = batchNorm(pooled, { mean: this.runMean, variance: this.runVar }, this.eps, training);
    return linear(normed, this.w, this.b) as tf.Tensor2D;
  }
}
