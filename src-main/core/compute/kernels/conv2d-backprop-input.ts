// Replacement Conv2DBackpropInput for wasm: the stock kernel is a scalar loop (~4 GFLOP/s); a
// stride-1 conv2d of the zero-upsampled dy with the flipped, in/out-swapped filter runs on XNNPACK.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { convGeometry } from './conv-geometry';
import { transposedConvInput } from './transposed-conv';

export const conv2dBackpropInput: ExtraKernel = {
  kernelName: 'Conv2DBackpropInput',
  replaces: true,
  kernelFunc: compositeKernel(({ dy, filter }, attrs) => {
    const nchw = attrs.dataFormat === 'NCHW';
    const inShape = attrs.inputShape as number[];
    const nhwcShape = nchw ? [inShape[0], inShape[2], inShape[3], inShape[1]] : inShape;
    const dy4 = (nchw ? tf.transpose(dy, [0, 2, 3, 1]) : dy) as tf.Tensor4D;
    const g = convGeometry(nhwcShape, filter.shape, pair(attrs.strides), [1, 1], attrs.pad, attrs.dimRoundingMode, false);
    // [KH, KW, C, CO] -> flipped [KH, KW, CO, C]: dy's channels in, the input's channels out.
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const dx = tf.conv2d(transposedConvInput(dy4, g, nhwcShape), flipped, 1, 'valid');
    return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  }),
};
