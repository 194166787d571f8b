// Replacement Conv2DBackpropInput for wasm: the stock kernel is a scalar loop (~4 GFLOP/s). Ours is one XNNPACK
// conv of dy with the flipped, in/out-swapped filter; a strided conv's phases run as output channels of that conv
// (transposed-conv.ts) instead of convolving a zero-upsampled dy, most of whose products are with zeros.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { convGeometry } from './conv-geometry';
import { phasedTransposedConv } from './transposed-conv';

export const conv2dBackpropInput: ExtraKernel = {
  kernelName: 'Conv2DBackpropInput',
  replaces: true,
  kernelFunc: compositeKernel(({ dy, filter }, attrs) => {
    const nchw = attrs.dataFormat === 'NCHW';
    const inShape = attrs.inputShape as number[];
    const nhwcShape = nchw ? [inShape[0], inShape[2], inShape[3], inShape[1]] : inShape;
    const dy4 = (nchw ? tf.transpose(dy, [0, 2, 3, 1]) : dy) as tf.Tensor4D;
    const g = convGeometry(nhwcShape, filter.shape, pair(attrs.strides), [1, 1], attrs.pad, attrs.dimRoundingMode, false);
    const dx = phasedTransposedConv(dy4, filter as tf.Tensor4D, g, nhwcShape);
    return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  }),
};
