// Resizing helpers whose backward pass is exact on every backend.
//
// tfjs's ResizeBilinearGrad ignores `halfPixelCenters` (cpu and wasm), so differentiating
// tf.image.resizeBilinear(…, halfPixelCenters=true) gives the gradient of a half-pixel-shifted resize.
// Bilinear resizing is therefore written as two plain 2-D matmuls with interpolation matrices
// (PyTorch F.interpolate(mode='bilinear', align_corners=False) semantics); 2-D matmuls without transpose
// flags are also the fast path of the wasm backend.
import { tf } from '../../compute/engine';

/**
 * Nearest-neighbour upsampling of [B,h,w,C] to [B,H,W,C] by repeating each pixel ⌈H/h⌉×⌈W/w⌉ times and cropping
 * (FPN top-down path). For the side network's ceil-rounded pyramids (H = 2h or 2h−1) this picks the same pixels as
 * PyTorch F.interpolate(mode='nearest'). Written with broadcasting (rank ≤ 3) instead of
 * tf.image.resizeNearestNeighbor because tfjs 4.22's cpu ResizeNearestNeighborGrad is wrong for batch > 1
 * (every image after the first gets another image's gradient).
 */
export function resizeNearest(x: tf.Tensor4D, H: number, W: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h === H && w === W) return x;
  if (H < h || W < w) throw new Error(`resizeNearest only upsamples ([${h},${w}] → [${H},${W}]).`);
  const fy = Math.ceil(H / h);
  const fx = Math.ceil(W / w);
  return tf.tidy(() => {
    let y: tf.Tensor = x;
    if (fy > 1) y = tf.reshape(tf.mul(tf.reshape(y, [b * h, 1, w * c]), tf.ones([1, fy, 1])), [b, h * fy, w, c]);
    if (fx > 1) y = tf.reshape(tf.mul(tf.reshape(y, [b * h * fy * w, 1, c]), tf.ones([1, fx, 1])), [b, h * fy, w * fx, c]);
    if (h * fy !== H || w * fx !== W) y = tf.slice(y, [0, 0, 0, 0], [b, H, W, c]);
    return y as tf.Tensor4D;
  });
}

/** Row-stochastic matrix M [outSize, inSize] with out = M · in, align_corners=False. */
export function bilinearMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l = src - i0;
    m[o * inSize + i0] += 1 - l;
    m[o * inSize + i1] += l;
  }
  return m;
}

/** Transposed interpolation matrix [inSize, outSize] (so that rows · M^T is a plain matmul). */
function bilinearMatrixT(inSize: number, outSize: number): tf.Tensor2D {
  const m = bilinearMatrix(inSize, outSize);
  const t = new Float32Array(inSize * outSize);
  for (let o = 0; o < outSize; o++) for (let i = 0; i < inSize; i++) t[i * outSize + o] = m[o * inSize + i];
  return tf.tensor2d(t, [inSize, outSize]);
}

/** Bilinear resize [B,h,w,C] → [B,H,W,C] with half-pixel centres (PyTorch align_corners=False). */
export function resizeBilinear(x: tf.Tensor4D, H: number, W: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h === H && w === W) return x;
  return tf.tidy(() => {
    // rows: interpolate along H
    let t = tf.transpose(x, [0, 2, 3, 1]); // [B,w,C,h]
    t = tf.matMul(tf.reshape(t, [b * w * c, h]), bilinearMatrixT(h, H)); // [B*w*C, H]
    t = tf.transpose(tf.reshape(t, [b, w, c, H]), [0, 3, 2, 1]); // [B,H,C,w]
    t = tf.matMul(tf.reshape(t, [b * H * c, w]), bilinearMatrixT(w, W)); // [B*H*C, W]
    return tf.transpose(tf.reshape(t, [b, H, c, W]), [0, 1, 3, 2]) as tf.Tensor4D; // [B,H,W,C]
  });
}

/**
 * The adjoint (gradient) of resizeBilinear [B,h,w,C] → [B,H,W,C]: dy [B,H,W,C] → dx [B,h,w,C], i.e. the
 * interpolation matrices applied transposed. For custom gradients of tfjs's own resize, whose
 * ResizeBilinearGrad ignores halfPixelCenters.
 */
export function resizeBilinearAdjoint(dy: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [b, H, W, c] = dy.shape;
  if (h === H && w === W) return dy;
  return tf.tidy(() => {
    const mh = tf.tensor2d(bilinearMatrix(h, H), [H, h]);
    const mw = tf.tensor2d(bilinearMatrix(w, W), [W, w]);
    let t = tf.transpose(dy, [0, 2, 3, 1]); // [B,W,C,H]
    t = tf.matMul(tf.reshape(t, [b * W * c, H]), mh); // [B*W*C, h]
    t = tf.transpose(tf.reshape(t, [b, W, c, h]), [0, 3, 2, 1]); // [B,h,C,W]
    t = tf.matMul(tf.reshape(t, [b * h * c, W]), mw); // [B*h*C, w]
    return tf.transpose(tf.reshape(t, [b, h, c, w]), [0, 1, 3, 2]) as tf.Tensor4D; // [B,h,w,C]
  });
}
