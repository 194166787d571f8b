// Conv2DBackpropFilter for wasm (absent from tfjs-backend-wasm 4.22): the filter gradient is one
// plain 2-D matmul of the tap matrix [KH*KW*C, N] with dy [N, CO] — the only matmul XNNPACK runs fast.
import * as tf from '@tensorflow/tfjs-core';
import { compositeKernel, pair, type ExtraKernel } from './kernel-util';
import { tapExtractor, tapGeometry } from './conv-taps';

export const conv2dBackpropFilter: ExtraKernel = {
  kernelName: 'Conv2DBackpropFilter',
  replaces: false,
  kernelFunc: compositeKernel(({ x, dy }, attrs) => {
    const nchw = attrs.dataFormat === 'NCHW';
    const x4 = (nchw ? tf.transpose(x, [0, 2, 3, 1]) : x) as tf.Tensor4D;
    const dy4 = (nchw ? tf.transpose(dy, [0, 2, 3, 1]) : dy) as tf.Tensor4D;
    const filterShape = attrs.filterShape as [number, number, number, number];
    const [KH, KW, C, CO] = filterShape;
    const g = tapGeometry(x4.shape, filterShape, pair(attrs.strides), [1, 1], attrs.pad, attrs.dimRoundingMode, false);
    const tap = tapExtractor(x4, g);
    const rows: tf.Tensor2D[] = [];
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) rows.push(tap(kh, kw));
    const cols = rows.length === 1 ? rows[0] : tf.concat(rows, 0);
    const n = dy4.shape[0] * dy4.shape[1] * dy4.shape[2];
    const dw = tf.matMul(cols, tf.reshape(dy4, [n, CO]));
    return tf.reshape(dw, [KH, KW, C, CO]);
  }),
};
