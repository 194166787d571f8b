// Binary cross-entropy on logits, in the overflow-free form max(x,0) − x·t + log(1 + e^−|x|).
import { tf } from '../compute/engine';

/** Element-wise BCE(sigmoid(logits), targets); same shape as the inputs. */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))),
  );
}

/**
 * Weighted sum of element-wise BCE divided by `normalizer` (clamped to ≥ 1e-6 so an empty batch gives 0, not NaN).
 * Used for FCOS centerness: weights = positive mask, normalizer = #positives.
 */
export function bceWithLogitsWeighted(
  logits: tf.Tensor,
  targets: tf.Tensor,
  weights: tf.Tensor,
  normalizer: number,
): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(bceWithLogits(logits, targets), weights)), Math.max(normalizer, 1e-6)) as tf.Scalar);
}
