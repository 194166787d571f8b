// DepthwiseConv2dNativeBackpropFilter for wasm (absent from tfjs-backend-wasm 4.22), via the identity
//   dW[kh, kw, c, m] = Σ_{b, oh, ow} xpad[b, oh·s + kh·d, ow·s + kw·d, c] · dy[b, oh, ow, c·M + m]
// = a stride-1 depthwise conv of the padded input seen as one image with B·C channels, with dy seen
// as a [OH, OW, B·C, M] filter dilated by the stride; then a sum over the batch. With a filter
// dilation d, every d-th output position is a tap.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { convGeometry, paddedWindow } from './conv-geometry';

export const depthwiseBackpropFilter: ExtraKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  replaces: false,
  kernelFunc: compositeKernel(({ x, dy }, attrs) => {
    const x4 = x as tf.Tensor4D;
    const filterShape = attrs.filterShape as [number, number, number, number];
    const [KH, KW, C, M] = filterShape;
    const g = convGeometry(x4.shape, filterShape, pair(attrs.strides), pair(attrs.dilations ?? 1), attrs.pad, attrs.dimRoundingMode, true);
    const [B] = x4.shape;
    const [OH, OW] = g.out;
    const win = paddedWindow(x4, g);
    const image = tf.reshape(tf.transpose(win, [1, 2, 0, 3]), [1, win.shape[1], win.shape[2], B * C]) as tf.Tensor4D;
    const dyFilter = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [OH, OW, B * C, M]) as tf.Tensor4D;
    const full = tf.depthwiseConv2d(image, dyFilter, 1, 'valid', 'NHWC', g.strides);
    const [, EH, EW] = full.shape;
    let taps: tf.Tensor = tf.sum(tf.reshape(full, [EH, EW, B, C, M]), 2);
    const [dh, dw] = g.dilations;
    if (dh > 1 || dw > 1) taps = tf.stridedSlice(taps, [0, 0, 0, 0], [EH, EW, C, M], [dh, dw, 1, 1]);
    return tf.reshape(taps, [KH, KW, C, M]);
  }),
};
