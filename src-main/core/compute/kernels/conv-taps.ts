// Shared by the filter gradients: every filter tap's input window as one [C, B*OH*OW] matrix.
// Strided windows come from a "phase split": pad the input to a multiple of the stride and reshape
// [H] -> [H/s, s], so each tap is a unit-stride slice of one phase. No gather, no scalar loops.
import * as tf from '@tensorflow/tfjs-core';
import { padOrCrop } from './kernel-util';

export interface TapGeometry {
  strides: [number, number];
  dilations: [number, number];
  filter: [number, number];
  pad: { top: number; left: number };
  out: [number, number];
}

/** Geometry of a conv from tfjs's own shape logic, so padding/rounding match the forward op exactly. */
export function tapGeometry(
  xShape: number[],
  filterShape: number[],
  strides: [number, number],
  dilations: [number, number],
  pad: unknown,
  dimRoundingMode: unknown,
  depthwise: boolean,
): TapGeometry {
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

/** Returns tap(kh, kw) -> [C, B*OH*OW] for an NHWC input; call inside a tidy scope. */
export function tapExtractor(x: tf.Tensor4D, g: TapGeometry): (kh: number, kw: number) => tf.Tensor2D {
  const [B, H, W, C] = x.shape;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const [KH, KW] = g.filter;
  const [OH, OW] = g.out;
  const needH = (OH - 1) * sh + (KH - 1) * dh + 1;
  const needW = (OW - 1) * sw + (KW - 1) * dw + 1;
  const Hp = Math.ceil(needH / sh) * sh;
  const Wp = Math.ceil(needW / sw) * sw;
  let xp: tf.Tensor = tf.reshape(tf.transpose(x, [3, 0, 1, 2]), [C * B, H, W]);
  xp = padOrCrop(xp, 1, g.pad.top, Hp - g.pad.top - H);
  xp = padOrCrop(xp, 2, g.pad.left, Wp - g.pad.left - W);
  const Hq = Hp / sh;
  const Wq = Wp / sw;
  const split = sh === 1 && sw === 1 ? xp : tf.reshape(xp, [C * B, Hq, sh, Wq, sw]);
  const phases = new Map<number, tf.Tensor3D>();
  const phase = (ph: number, pw: number): tf.Tensor3D => {
    const key = ph * sw + pw;
    let p = phases.get(key);
    if (!p) {
      p = sh === 1 && sw === 1
        ? (split as tf.Tensor3D)
        : tf.reshape(tf.slice(split, [0, 0, ph, 0, pw], [C * B, Hq, 1, Wq, 1]), [C * B, Hq, Wq]);
      phases.set(key, p);
    }
    return p;
  };
  return (kh, kw) => {
    const oh = kh * dh;
    const ow = kw * dw;
    const p = phase(oh % sh, ow % sw);
    const window = tf.slice(p, [0, Math.floor(oh / sh), Math.floor(ow / sw)], [C * B, OH, OW]);
    return tf.reshape(window, [C, B * OH * OW]);
  };
}
