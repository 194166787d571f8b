// Conv2DBackpropFilter for wasm (absent from tfjs-backend-wasm 4.22), via the identity
//   dW[kh, kw, ci, co] = Σ_{b, oh, ow} xpad[b, oh·s + kh, ow·s + kw, ci] · dy[b, oh, ow, co]
// = a stride-1 conv of the padded input seen as [Ci, H, W, B] ("images" = input channels, "channels"
// = batch) with dy seen as a [OH, OW, B, Co] filter dilated by the stride. One XNNPACK conv; measured
// 1.5–4× faster than an im2col matmul built from slices.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { convGeometry, paddedWindow } from './conv-geometry';

export const conv2dBackpropFilter: ExtraKernel = {
  kernelName: 'Conv2DBackpropFilter',
  replaces: false,
  kernelFunc: compositeKernel(({ x, dy }, attrs) => {
    const nchw = attrs.dataFormat === 'NCHW';
    const x4 = (nchw ? tf.transpose(x, [0, 2, 3, 1]) : x) as tf.Tensor4D;
    const dy4 = (nchw ? tf.transpose(dy, [0, 2, 3, 1]) : dy) as tf.Tensor4D;
    const filterShape = attrs.filterShape as [number, number, number, number];
    const g = convGeometry(x4.shape, filterShape, pair(attrs.strides), [1, 1], attrs.pad, attrs.dimRoundingMode, false);
    const images = tf.transpose(paddedWindow(x4, g), [3, 1, 2, 0]) as tf.Tensor4D;
    const dyFilter = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D;
    const dw = tf.conv2d(images, dyFilter, 1, 'valid', 'NHWC', g.strides);
    return tf.transpose(dw, [1, 2, 0, 3]);
  }),
};
