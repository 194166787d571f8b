// Sigmoid focal loss (Lin et al. 2017), RetinaNet/FCOS form: α·t + (1−α)(1−t) weighting, (1 − p_t)^γ modulation.
import { tf } from '../compute/engine';
import { bceWithLogits } from './bce';

export interface FocalOptions {
  alpha?: number; // default 0.25; a negative value disables the α weighting
  gamma?: number; // default 2
}

/** Element-wise focal loss; logits and targets (0/1 or soft) of the same shape. */
export function sigmoidFocalLossElementwise(logits: tf.Tensor, targets: tf.Tensor, opts: FocalOptions = {}): tf.Tensor {
  const alpha = opts.alpha ?? 0.25;
  const gamma = opts.gamma ?? 2;
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const ce = bceWithLogits(logits, targets);
    // 1 − p_t = p(1−t) + (1−p)t
    const oneMinusPt = tf.add(tf.mul(p, tf.sub(1, targets)), tf.mul(tf.sub(1, p), targets));
    const mod = gamma === 2 ? tf.square(oneMinusPt) : gamma === 1 ? oneMinusPt : tf.pow(oneMinusPt, gamma);
    let loss = tf.mul(ce, mod);
    if (alpha >= 0) loss = tf.mul(loss, tf.add(tf.mul(targets, alpha), tf.mul(tf.sub(1, targets), 1 - alpha)));
    return loss;
  });
}

/** Sum of the focal loss over every element divided by max(numPositives, 1) (FCOS normalisation). */
export function sigmoidFocalLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  numPositives: number,
  opts: FocalOptions = {},
): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(sigmoidFocalLossElementwise(logits, targets, opts)), Math.max(numPositives, 1)) as tf.Scalar);
}
