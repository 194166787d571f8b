// Resampling the decoded image onto the network canvas under a SampleTransform, in plain JS on typed arrays.
// Separable triangle filter whose support widens when shrinking (antialiased bilinear), so scale jitter
// does not alias; exact geometry (one uniform scale, sub-pixel padding) that sharp's integer resize cannot give.
import type { SampleTransform } from './types';

/** The image the pipeline keeps per file: EXIF-oriented, possibly downscaled from the original. */
export interface BaseImage {
  data: Uint8Array;
  width: number;
  height: number;
  origWidth: number;
  origHeight: number;
}

interface AxisTaps {
  taps: number;
  /** [nOut*taps] source indices and weights; output i uses the first n[i] slots */
  idx: Int32Array;
  w: Float32Array;
  n: Uint8Array;
  /** whether each output pixel's centre falls on the image (else it is padding) */
  inside: Uint8Array;
  first: number;
  last: number;
}

/**
 * For one axis: output pixel i's centre maps to the original coordinate o = (i + .5 − pad) / scale (mirrored
 * when flipped), then to the base image at o · nSrc / origLen.
 */
function axisTaps(nOut: number, nSrc: number, origLen: number, scale: number, pad: number, flipped: boolean): AxisTaps {
  const f = nSrc / origLen; // base pixels per original pixel
  const srcPerOut = f / scale;
  const sup = Math.max(1, srcPerOut);
  const taps = Math.ceil(2 * sup) + 1;
  const idx = new Int32Array(nOut * taps);
  const w = new Float32Array(nOut * taps);
  const n = new Uint8Array(nOut);
  const inside = new Uint8Array(nOut);
  let first = nSrc;
  let last = -1;
  for (let i = 0; i < nOut; i++) {
    let o = (i + 0.5 - pad) / scale;
    if (!(o >= 0 && o < origLen)) continue;
    if (flipped) o = origLen - o;
    inside[i] = 1;
    const c = o * f - 0.5; // continuous source index (pixel centres at integers)
    const j0 = Math.ceil(c - sup);
    let sum = 0;
    let k = 0;
    for (let j = j0; j <= c + sup && k < taps; j++) {
      const wt = 1 - Math.abs(j - c) / sup;
      if (wt <= 0) continue;
      const jj = j < 0 ? 0 : j >= nSrc ? nSrc - 1 : j;
      idx[i * taps + k] = jj;
      w[i * taps + k] = wt;
      sum += wt;
      if (jj < first) first = jj;
      if (jj > last) last = jj;
      k++;
    }
    for (let m = 0; m < k; m++) w[i * taps + m] /= sum;
    n[i] = k;
  }
  return { taps, idx, w, n, inside, first, last };
}

export interface Resampled {
  /** [H*W*3] RGB in [0, 1]; padding pixels are NaN-free zeros (callers overwrite them) */
  rgb: Float32Array;
  /** [H*W] 1 where the pixel lies on the image */
  inside: Uint8Array;
}

/** Resample `base` onto an H×W canvas under transform `t` (which is relative to the original image). */
export function resampleImage(base: BaseImage, t: SampleTransform, H: number, W: number): Resampled {
  const ax = axisTaps(W, base.width, base.origWidth, t.scale, t.padX, t.flipped);
  const ay = axisTaps(H, base.height, base.origHeight, t.scale, t.padY, false);
  const rgb = new Float32Array(H * W * 3);
  const inside = new Uint8Array(H * W);
  if (ax.last < 0 || ay.last < 0) return { rgb, inside };

  // horizontal pass over the source rows the vertical pass will read
  const rows = ay.last - ay.first + 1;
  const tmp = new Float32Array(rows * W * 3);
  const src = base.data;
  const sw3 = base.width * 3;
  const tx = ax.taps;
  for (let r = 0; r < rows; r++) {
    const srow = (ay.first + r) * sw3;
    const trow = r * W * 3;
    for (let x = 0; x < W; x++) {
      if (!ax.inside[x]) continue;
      let a = 0;
      let b = 0;
      let c = 0;
      const o = x * tx;
      const nk = ax.n[x];
      for (let k = 0; k < nk; k++) {
        const wt = ax.w[o + k];
        const p = srow + ax.idx[o + k] * 3;
        a += src[p] * wt;
        b += src[p + 1] * wt;
        c += src[p + 2] * wt;
      }
      const q = trow + x * 3;
      tmp[q] = a;
      tmp[q + 1] = b;
      tmp[q + 2] = c;
    }
  }
  // vertical pass
  const ty = ay.taps;
  const inv = 1 / 255;
  for (let y = 0; y < H; y++) {
    if (!ay.inside[y]) continue;
    const o = y * ty;
    const orow = y * W;
    const nk = ay.n[y];
    for (let k = 0; k < nk; k++) {
      const wt = ay.w[o + k] * inv;
      const trow = (ay.idx[o + k] - ay.first) * W * 3;
      for (let x = 0; x < W; x++) {
        if (!ax.inside[x]) continue;
        const q = trow + x * 3;
        const p = (orow + x) * 3;
        rgb[p] += tmp[q] * wt;
        rgb[p + 1] += tmp[q + 1] * wt;
        rgb[p + 2] += tmp[q + 2] * wt;
      }
    }
    for (let x = 0; x < W; x++) inside[orow + x] = ax.inside[x];
  }
  return { rgb, inside };
}
