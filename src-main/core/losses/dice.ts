// Dice loss as used by CondInst: 1 − 2·Σ(p·t) / (Σp² + Σt² + eps), per instance.
import { tf } from '../compute/engine';

/** probs and targets [M, P] (P = pixels per instance) → per-instance loss [M]. */
export function diceLoss(probs: tf.Tensor2D, targets: tf.Tensor2D, eps = 1e-5): tf.Tensor1D {
  return tf.tidy(() => {
    const inter = tf.sum(tf.mul(probs, targets), 1);
    const denom = tf.add(tf.add(tf.sum(tf.square(probs), 1), tf.sum(tf.square(targets), 1)), eps);
    return tf.sub(1, tf.div(tf.mul(inter, 2), denom)) as tf.Tensor1D;
  });
}
