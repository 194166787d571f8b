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

/**
 * Which filter tap each output phase uses along one axis, for `phasedTransposedConv`. Input row i = s·t + ρ
 * (phase ρ) gets dy[q0 + t − m] · W[r + m·s] for m = 0…M−1, with q0 = ⌊(ρ + pad)/s⌋ and r = (ρ + pad) mod s.
 * Over a window of U dy rows starting at a + t, every phase reads through one [U]-tap filter: `index[ρ·U + u]`
 * is the tap at window position u, or K (a zero tap) where that phase reads nothing.
 */
export function phaseTaps(K: number, s: number, padBefore: number): { start: number; taps: number; index: number[] } {
  const phases = Array.from({ length: s }, (_, rho) => {
    const q0 = Math.floor((rho + padBefore) / s);
    const r = (rho + padBefore) % s;
    return { q0, r, m: r < K ? Math.ceil((K - r) / s) : 0 };
  });
  const used = phases.filter((p) => p.m > 0);
  // no phase reads a tap only when K = 0, which no conv has; keep the window one row wide then
  const start = used.length ? Math.min(...used.map((p) => p.q0 - (p.m - 1))) : 0;
  const taps = used.length ? Math.max(...used.map((p) => p.q0 - start)) + 1 : 1;
  const index: number[] = [];
  for (const p of phases)
    for (let u = 0; u < taps; u++) {
      const m = p.q0 - start - u;
      index.push(m >= 0 && m < p.m ? p.r + m * s : K);
    }
  return { start, taps, index };
}

/**
 * The input gradient of a conv without multiplying by inserted zeros: for each of the s_h·s_w phases of the input
 * grid, the rows and columns it receives come from a sub-filter of W applied to dy itself. All phases run as one
 * stride-1 conv whose output channels are the phases (sub-filters padded to a common size with zero taps), then
 * a transpose interleaves them. A 3×3/s2 conv does 16 multiply-adds per dy position instead of 36 over a
 * zero-upsampled dy, a 2×2/s2 one a 1×1 conv instead of a 2×2 over a 4× larger grid; stride 1 is the plain
 * flipped-filter conv. Dilations must be 1 (tfjs has no dilated conv gradient).
 * dy [B, OH, OW, CO], filter [KH, KW, C, CO] (the forward conv's) → dx [B, H, W, C].
 */
export function phasedTransposedConv(dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry, inputShape: number[]): tf.Tensor4D {
  const [B, OH, OW] = dy.shape;
  const [KH, KW, C] = filter.shape;
  const [sh, sw] = g.strides;
  const [, H, W] = inputShape;
  const ph = phaseTaps(KH, sh, g.pad.top);
  const pw = phaseTaps(KW, sw, g.pad.left);
  const Hp = Math.ceil(H / sh);
  const Wp = Math.ceil(W / sw);
  let win = padOrCrop(dy, 1, -ph.start, ph.start + Hp + ph.taps - 1 - OH);
  win = padOrCrop(win, 2, -pw.start, pw.start + Wp + pw.taps - 1 - OW);
  const f = phasedFilter(filter, ph, pw);
  // [B, Hp, Wp, sh·sw·C]; a 1×1 conv is a matmul, which XNNPACK runs ~2× faster than its 1×1 conv
  const out =
    ph.taps * pw.taps === 1
      ? tf.reshape(tf.matMul(tf.reshape(win, [B * Hp * Wp, f.shape[2]]), tf.reshape(f, [f.shape[2], f.shape[3]])), [B, Hp, Wp, f.shape[3]])
      : tf.conv2d(win as tf.Tensor4D, f, 1, 'valid');
  if (sh * sw === 1) return out as tf.Tensor4D;
  // phases to the grid (wasm's DepthToSpace is a per-element loop, ~15× slower than this Transpose)
  const dx = tf.reshape(tf.transpose(tf.reshape(out, [B, Hp, Wp, sh, sw, C]), [0, 1, 3, 2, 4, 5]), [B, Hp * sh, Wp * sw, C]);
  return (Hp * sh === H && Wp * sw === W ? dx : tf.slice(dx, [0, 0, 0, 0], [B, H, W, C])) as tf.Tensor4D;
}

type Taps = ReturnType<typeof phaseTaps>;

/**
 * [Uh, Uw, CO, sh·sw·C]: phase (ρh, ρw)'s sub-filter, in/out swapped, in output channels (ρh·sw + ρw)·C + c.
 * Built in JS: wasm's Gather and Reverse are per-element loops (~30 ms for a 3×3×128×192 filter; this, <1 ms).
 */
function phasedFilter(filter: tf.Tensor4D, ph: Taps, pw: Taps): tf.Tensor4D {
  const [KH, KW, C, CO] = filter.shape;
  const sh = ph.index.length / ph.taps;
  const sw = pw.index.length / pw.taps;
  const src = filter.dataSync() as Float32Array;
  const P = sh * sw * C;
  const out = new Float32Array(ph.taps * pw.taps * CO * P);
  for (let rh = 0; rh < sh; rh++)
    for (let uh = 0; uh < ph.taps; uh++) {
      const kh = ph.index[rh * ph.taps + uh];
      if (kh === KH) continue;
      for (let rw = 0; rw < sw; rw++)
        for (let uw = 0; uw < pw.taps; uw++) {
          const kw = pw.index[rw * pw.taps + uw];
          if (kw === KW) continue;
          copyTap(src, (kh * KW + kw) * C * CO, out, (uh * pw.taps + uw) * CO * P + (rh * sw + rw) * C, C, CO, P);
        }
    }
  return tf.tensor4d(out, [ph.taps, pw.taps, CO, P]);
}

/** out[co·P + c] = src[c·CO + co] (from `srcAt` / `outAt`): one tap's [C, CO] block, transposed. */
function copyTap(src: Float32Array, srcAt: number, out: Float32Array, outAt: number, C: number, CO: number, P: number): void {
  for (let c = 0; c < C; c++) {
    const row = srcAt + c * CO;
    for (let co = 0; co < CO; co++) out[outAt + co * P + c] = src[row + co];
  }
}
