// 2-D convolution with bias over NHWC tensors. Kernel stored [kh,kw,in,out] (exported as (out,in,kh,kw)).
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
    return tf.add(tf.conv2d(x, this.weight as tf.Tensor4D, 1, 'same'), this.bias);
  }
}
