// Conv geometry shared by the gradient kernels, taken from tfjs's own shape logic so padding and
// rounding match the forward op exactly.
import * as tf from '@tensorflow/tfjs-core';
import { padOrCrop } from './kernel-util';

export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  filter: [number, number];
  pad: { top: number; left: number };
  out: [number, number];
}

export function convGeometry(
  xShape: number[],
  filterShape: number[],
  strides: [number, number],
  dilations: [number, number],
  pad: unknown,
  dimRoundingMode: unknown,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad as 'same',
    (dimRoundingMode ?? undefined) as 'floor' | undefined,
    depthwise,
  );
  return {
    strides,
    dilations,
    filter: [info.filterHeight, info.filterWidth],
    pad: { top: info.padInfo.top, left: info.padInfo.left },
    out: [info.outHeight, info.outWidth],
  };
}

/**
 * The forward conv's padded input, cut to exactly the rows/columns it reads:
 * [B, (OH-1)·s + (KH-1)·d + 1, (OW-1)·s + (KW-1)·d + 1, C]. Rows it never reads are cropped.
 */
export function paddedWindow(x: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [, H, W] = x.shape;
  const hp = (g.out[0] - 1) * g.strides[0] + (g.filter[0] - 1) * g.dilations[0] + 1;
  const wp = (g.out[1] - 1) * g.strides[1] + (g.filter[1] - 1) * g.dilations[1] + 1;
  let t: tf.Tensor = padOrCrop(x, 1, g.pad.top, hp - g.pad.top - H);
  t = padOrCrop(t, 2, g.pad.left, wp - g.pad.left - W);
  return t as tf.Tensor4D;
}
