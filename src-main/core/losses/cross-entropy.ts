// Softmax cross-entropy with an ignore label (semantic segmentation: 255 = "not labelled").
import { tf } from '../compute/engine';

export const IGNORE_LABEL = 255;

/**
 * logits [..., K] and integer labels [...] (int32; values in 0..K-1 or `ignoreIndex`) → mean CE over the
 * non-ignored elements. All-ignored input gives exactly 0 with a zero (finite) gradient.
 * Labels outside 0..K-1 other than the ignore label would silently train nothing; callers validate them
 * on the JS side with `findBadLabel` so the error can name the image.
 */
export function crossEntropyWithIgnore(
  logits: tf.Tensor,
  labels: tf.Tensor,
  ignoreIndex = IGNORE_LABEL,
  labelSmoothing = 0,
): tf.Scalar {
  const k = logits.shape[logits.shape.length - 1];
  return tf.tidy(() => {
    const flatLogits = tf.reshape(logits, [-1, k]);
    const flatLabels = tf.cast(tf.reshape(labels, [-1]), 'int32');
    const valid = tf.cast(tf.notEqual(flatLabels, ignoreIndex), 'float32');
    // oneHot of an out-of-range index is all zeros, so ignored pixels contribute nothing even before masking.
    let target = tf.oneHot(tf.where(tf.equal(flatLabels, ignoreIndex), tf.fill(flatLabels.shape, -1, 'int32'), flatLabels), k) as tf.Tensor;
    target = tf.cast(target, 'float32');
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / k);
    const logp = tf.logSoftmax(flatLogits);
    const perElem = tf.mul(tf.neg(tf.sum(tf.mul(target, logp), 1)), valid);
    const count = tf.maximum(tf.sum(valid), 1);
    return tf.div(tf.sum(perElem), count) as tf.Scalar;
  });
}

/** Checks label values on the JS side, naming the first bad one (for the data pipeline's error messages). */
export function findBadLabel(labels: ArrayLike<number>, numClasses: number, ignoreIndex = IGNORE_LABEL): number {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v !== ignoreIndex && (v < 0 || v >= numClasses || !Number.isInteger(v))) return i;
  }
  return -1;
}
