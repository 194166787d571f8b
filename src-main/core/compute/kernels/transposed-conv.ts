// The input gradient of a strided conv as a stride-1 'valid' conv: insert (stride-1) zeros between
// dy's rows/columns, then pad so a flipped-filter correlation lands exactly on the input grid.
// Negative padding (input rows the forward conv never read) becomes a crop.
import * as tf from '@tensorflow/tfjs-core';
import { padOrCrop } from './kernel-util';
import type { ConvGeometry } from './conv-geometry';

export function transposedConvInput(dy: tf.Tensor4D, g: ConvGeometry, inputShape: number[]): tf.Tensor4D {
  const [B, OH, OW, CO] = dy.shape;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const [KH, KW] = g.filter;
  const [, H, W] = inputShape;
  let up: tf.Tensor = dy;
  if (sh > 1 || sw > 1) {
    const spread = tf.pad(tf.reshape(dy, [B, OH, 1, OW, 1, CO]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    up = tf.slice(tf.reshape(spread, [B, OH * sh, OW * sw, CO]), [0, 0, 0, 0], [B, (OH - 1) * sh + 1, (OW - 1) * sw + 1, CO]);
  }
  const extH = (KH - 1) * dh;
  const extW = (KW - 1) * dw;
  const upH = (OH - 1) * sh + 1;
  const upW = (OW - 1) * sw + 1;
  const padTop = extH - g.pad.top;
  const padLeft = extW - g.pad.left;
  up = padOrCrop(up, 1, padTop, H + extH - padTop - upH);
  up = padOrCrop(up, 2, padLeft, W + extW - padLeft - upW);
  return up as tf.Tensor4D;
}
