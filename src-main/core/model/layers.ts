// Stateless building blocks shared by every part of the model, written to match PyTorch numerics.
// All tensors are channels-last: tokens [B, N, C], maps [B, H, W, C].
import { tf } from '../compute/engine';
import { fusedNorm, hasFusedNorm } from '../compute/kernels/fused-norm';
import { recordingGradients } from '../compute/kernels/kernel-util';

/** y = x·W + b for x [..., in], W [in, out] → [..., out]. Folded to one 2-D matmul (the fast wasm path). */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = w.shape[0] as number;
  const outDim = w.shape[1] as number;
  const lead = x.shape.slice(0, -1) as number[];
  const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  // While training, the bias rides in the matmul kernel: one kernel and one recorded node fewer per layer.
  // Inference keeps the separate add, whose rounding the PyTorch parity tests pin down.
  let y: tf.Tensor;
  if (b && b.rank === 1 && recordingGradients()) y = tf.fused.matMul({ a: x2, b: w as tf.Tensor2D, bias: b });
  else y = b ? tf.add(tf.matMul(x2, w as tf.Tensor2D), b) : tf.matMul(x2, w as tf.Tensor2D);
  return tf.reshape(y, [...lead, outDim]);
}

/** LayerNorm over the last axis with biased variance, as torch.nn.LayerNorm. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  if (hasFusedNorm()) return fusedNorm(x, gamma, beta, eps, 1, 1);
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** Exact GELU 0.5·x·(1+erf(x/√2)) (torch nn.GELU(approximate='none')); tfjs has no built-in exact GELU. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * Stochastic depth on a residual branch: each sample's branch is dropped with probability `rate` and the kept
 * ones are scaled by 1/(1−rate) (timm drop_path). Identity in eval mode or at rate 0.
 */
export function dropPath(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  const keep = 1 - rate;
  const shape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
  const mask = tf.floor(tf.add(tf.randomUniform(shape), keep));
  return tf.mul(x, tf.div(mask, keep));
}

/** Conv2d NHWC with explicit symmetric zero padding (PyTorch `padding=p`), filter [kh, kw, in, out]. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number, b?: tf.Tensor): tf.Tensor4D {
  const xp = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  const y = tf.conv2d(xp, w, stride, 'valid');
  return (b ? tf.add(y, b) : y) as tf.Tensor4D;
}

/** Flattens a map [B, H, W, C] to row-major tokens [B, H·W, C] (same order as torch flatten(2).transpose(1,2)). */
export function toTokens(x: tf.Tensor4D): tf.Tensor3D {
  const [b, h, w, c] = x.shape;
  return tf.reshape(x, [b, h * w, c]);
}

export function toMap(x: tf.Tensor3D, h: number, w: number): tf.Tensor4D {
  const [b, n, c] = x.shape;
  if (n !== h * w) throw new Error(`toMap: ${n} tokens do not form a ${h}×${w} grid`);
  return tf.reshape(x, [b, h, w, c]);
}

/**
 * BatchNorm over every axis but the last (BatchNorm1d/2d in PyTorch terms). Training: normalises with the
 * biased batch variance and updates the running stats with the unbiased one (momentum 0.1), as PyTorch does;
 * eval: uses the running stats. gamma/beta are optional (affine=False).
 */
export function batchNorm(
  x: tf.Tensor,
  running: { mean: tf.Variable; variance: tf.Variable },
  eps: number,
  training: boolean,
  gamma?: tf.Tensor,
  beta?: tf.Tensor,
  momentum = 0.1,
): tf.Tensor {
  let mean: tf.Tensor;
  let variance: tf.Tensor;
  if (training) {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const m = tf.moments(x, axes);
    mean = m.mean;
    variance = m.variance;
    const n = x.size / x.shape[x.shape.length - 1];
    // The running-stat update never feeds the loss, so it contributes nothing to the gradients.
    const newMean = tf.tidy(() => tf.add(tf.mul(running.mean, 1 - momentum), tf.mul(mean, momentum)));
    const unbiased = n > 1 ? n / (n - 1) : 1;
    const newVar = tf.tidy(() => tf.add(tf.mul(running.variance, 1 - momentum), tf.mul(variance, momentum * unbiased)));
    running.mean.assign(newMean);
    running.variance.assign(newVar);
    newMean.dispose();
    newVar.dispose();
  } else {
    mean = running.mean;
    variance = running.variance;
  }
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return y;
}
