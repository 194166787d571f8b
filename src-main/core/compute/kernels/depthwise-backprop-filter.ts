// DepthwiseConv2dNativeBackpropFilter for wasm (absent from tfjs-backend-wasm 4.22). Each tap's
// gradient is a per-channel dot product of its input window with dy: one multiply and one sum.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { tapExtractor, tapGeometry } from './conv-taps';

export const depthwiseBackpropFilter: ExtraKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  replaces: false,
  kernelFunc: compositeKernel(({ x, dy }, attrs) => {
    const x4 = x as tf.Tensor4D;
    const filterShape = attrs.filterShape as [number, number, number, number];
    const [KH, KW, C, M] = filterShape;
    const g = tapGeometry(x4.shape, filterShape, pair(attrs.strides), pair(attrs.dilations ?? 1), attrs.pad, attrs.dimRoundingMode, true);
    const tap = tapExtractor(x4, g);
    const [B, OH, OW] = dy.shape;
    const n = B * OH * OW;
    // dy channels are ordered c*M + m; bring them to [C, M, N] to line up with the windows [C, 1, N].
    const dyT = tf.reshape(tf.transpose(dy, [3, 0, 1, 2]), [C, M, n]);
    const perTap: tf.Tensor[] = [];
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++) perTap.push(tf.sum(tf.mul(tf.reshape(tap(kh, kw), [C, 1, n]), dyT), 2));
    return tf.reshape(tf.stack(perTap), [KH, KW, C, M]);
  }),
};
