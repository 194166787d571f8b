// DepthwiseConv2dNativeBackpropInput for wasm (absent from tfjs-backend-wasm 4.22): the input
// gradient is a stride-1 depthwise conv of the zero-upsampled dy with the spatially flipped filter,
// followed by a sum over the channel multiplier.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { convGeometry } from './conv-geometry';
import { transposedConvInput } from './transposed-conv';

export const depthwiseBackpropInput: ExtraKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  replaces: false,
  kernelFunc: compositeKernel(({ dy, filter }, attrs) => {
    const inputShape = attrs.inputShape as [number, number, number, number];
    const [KH, KW, C, M] = filter.shape;
    const dilations = pair(attrs.dilations ?? 1);
    const g = convGeometry(inputShape, filter.shape, pair(attrs.strides), dilations, attrs.pad, attrs.dimRoundingMode, true);
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [KH, KW, C * M, 1]) as tf.Tensor4D;
    const up = transposedConvInput(dy as tf.Tensor4D, g, inputShape);
    const full = tf.depthwiseConv2d(up, flipped, 1, 'valid', 'NHWC', dilations);
    const [B, H, W] = inputShape;
    return M === 1 ? full : tf.sum(tf.reshape(full, [B, H, W, C, M]), 4);
  }),
};
