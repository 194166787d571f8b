// 2-D convolution with bias over NHWC tensors. Kernel stored [kh,kw,in,out] (exported as (out,in,kh,kw)).
//
// 3×3 convolutions use tf.conv2d forward with a hand-written gradient built from forward convolutions only:
//   dx = conv2d(dy, flip(W) with in/out swapped, 'same')
//   dW = conv2d(pad(x) with batch↔channels swapped, dy as a [H,W,B,out] filter, 'valid')
// because tfjs's cpu Conv2DBackpropFilter is a scalar loop (seconds per step even for head-sized maps) and the wasm
// backend has no Conv2DBackpropFilter at all, while forward Conv2D is fast on both. 1×1 convs are a reshape + matmul.
import { tf } from '../../compute/engine';
import type { Init, ParamStore } from './params';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernel: 1 | 3;
  /** Weight init; default N(0, 0.01) as in FCOS/CondInst heads. */
  init?: Init;
  biasInit?: number;
}

// Anti-identity [9,9]: multiplying the 9 flattened taps by it flips the kernel spatially (tf.reverse is a slow
// per-element loop on the cpu backend).
let flipMatrix: tf.Tensor2D | null = null;
function flipTaps(): tf.Tensor2D {
  if (!flipMatrix || flipMatrix.isDisposed) {
    const m = new Float32Array(81);
    for (let i = 0; i < 9; i++) m[i * 9 + (8 - i)] = 1;
    flipMatrix = tf.keep(tf.tensor2d(m, [9, 9]));
  }
  return flipMatrix;
}

const conv3x3Same = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const d = dy as tf.Tensor4D;
      const [, , cin, cout] = ws.shape;
      const flipped = tf.reshape(tf.matMul(flipTaps(), tf.reshape(ws, [9, cin * cout])), [3, 3, cin, cout]);
      const wFlip = tf.transpose(flipped, [0, 1, 3, 2]) as tf.Tensor4D;
      const dx = tf.conv2d(d, wFlip, 1, 'same');
      const xp = tf.pad(xs, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]);
      const dw = tf.transpose(
        tf.conv2d(tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(d, [1, 2, 0, 3]) as tf.Tensor4D, 1, 'valid'),
        [1, 2, 0, 3],
      );
      return [dx, dw];
    },
  };
}) as never) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor4D;

/** 'same' 3×3 or 1×1 convolution, stride 1: x [B,H,W,in], weight [k,k,in,out], bias [out] → [B,H,W,out]. */
export function convSame(x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [k, , cin, cout] = weight.shape;
  if (c !== cin) throw new Error(`conv: input has ${c} channels, the kernel expects ${cin}.`);
  return tf.tidy(() => {
    let y: tf.Tensor =
      k === 1 ? tf.reshape(tf.matMul(tf.reshape(x, [b * h * w, c]), tf.reshape(weight, [cin, cout])), [b, h, w, cout]) : conv3x3Same(x, weight);
    if (bias) y = tf.add(y, bias);
    return y as tf.Tensor4D;
  });
}

export class Conv2d {
  readonly weight: tf.Variable; // [k, k, in, out]
  readonly bias: tf.Variable; // [out]

  constructor(store: ParamStore, readonly opts: Conv2dOptions) {
    const k = opts.kernel;
    this.weight = store.add('weight', [k, k, opts.inChannels, opts.outChannels], opts.init ?? { kind: 'normal', std: 0.01 }, 'conv');
    this.bias = store.add('bias', [opts.outChannels], { kind: 'const', value: opts.biasInit ?? 0 }, 'plain');
  }

  /** x [B,H,W,in] → [B,H,W,out] ('same' padding, stride 1). */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return convSame(x, this.weight, this.bias);
  }
}
