// Letterbox geometry: the original image is (optionally) mirrored, scaled uniformly and placed on an H×W
// canvas; the rest of the canvas is padding. One SampleTransform describes it, and these helpers map boxes,
// points and masks both ways (prediction maps network outputs back to the original image).
import type { SampleTransform } from './types';

export interface InputSize {
  height: number;
  width: number;
}

/** `size` as in the pipeline options: a square side or [height, width]. */
export function parseSize(size: number | readonly [number, number]): InputSize {
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  for (const [what, v] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(v) || v < 8 || v > 8192) throw new Error(`training size: ${what} must be an integer from 8 to 8192, got ${v}`);
  }
  return { height, width };
}

export interface PlaceOptions {
  /** Multiplies the fitting scale (scale jitter); 1 = the whole image just fits. */
  zoom?: number;
  /** Where the scaled image sits along each axis, 0 = left/top … 1 = right/bottom (default 0.5, centred).
   * When the scaled image is larger than the canvas, the same number chooses the crop. */
  placeX?: number;
  placeY?: number;
  flipped?: boolean;
}

/** The transform that fits an origW×origH image into `size`, keeping its aspect ratio. */
export function letterboxTransform(origW: number, origH: number, size: InputSize, opts: PlaceOptions = {}): SampleTransform {
  if (!(origW > 0 && origH > 0)) throw new Error(`letterbox: image size must be positive, got ${origW}×${origH}`);
  const scale = Math.min(size.width / origW, size.height / origH) * (opts.zoom ?? 1);
  // integer padding keeps the un-jittered image on the pixel grid (no half-pixel blur)
  // (+ 0 turns −0 into 0, so transforms compare and serialise plainly)
  const padX = Math.round((size.width - origW * scale) * (opts.placeX ?? 0.5)) + 0;
  const padY = Math.round((size.height - origH * scale) * (opts.placeY ?? 0.5)) + 0;
  return { origW, origH, scale, padX, padY, flipped: opts.flipped ?? false };
}

/** Original → input pixels for a box [x1, y1, x2, y2] (not clipped). */
export function boxToInput(box: ArrayLike<number>, t: SampleTransform): [number, number, number, number] {
  let x1 = box[0];
  let x2 = box[2];
  if (t.flipped) [x1, x2] = [t.origW - x2, t.origW - x1];
  return [x1 * t.scale + t.padX, box[1] * t.scale + t.padY, x2 * t.scale + t.padX, box[3] * t.scale + t.padY];
}

/** Input → original pixels for a box [x1, y1, x2, y2], clipped to the original image. */
export function boxToOriginal(box: ArrayLike<number>, t: SampleTransform): [number, number, number, number] {
  let x1 = (box[0] - t.padX) / t.scale;
  let x2 = (box[2] - t.padX) / t.scale;
  if (t.flipped) [x1, x2] = [t.origW - x2, t.origW - x1];
  const y1 = (box[1] - t.padY) / t.scale;
  const y2 = (box[3] - t.padY) / t.scale;
  return [clamp(x1, 0, t.origW), clamp(y1, 0, t.origH), clamp(x2, 0, t.origW), clamp(y2, 0, t.origH)];
}

/** Every box of a [n*4] array mapped back to the original image (in place into a new array). */
export function boxesToOriginal(boxes: Float32Array, t: SampleTransform): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i + 3 < boxes.length; i += 4) out.set(boxToOriginal(boxes.subarray(i, i + 4), t), i);
  return out;
}

export function pointToInput(x: number, y: number, t: SampleTransform): [number, number] {
  return [(t.flipped ? t.origW - x : x) * t.scale + t.padX, y * t.scale + t.padY];
}

export function pointToOriginal(x: number, y: number, t: SampleTransform): [number, number] {
  const ox = (x - t.padX) / t.scale;
  return [t.flipped ? t.origW - ox : ox, (y - t.padY) / t.scale];
}

/**
 * A mask (or probability map) at input resolution → a binary mask at the original resolution (row-major,
 * origH×origW). 'nearest' reads the input pixel under each original pixel's centre; 'bilinear' interpolates
 * the values first, which gives smoother outlines when upscaling probabilities. Pixels that fall on padding
 * or outside the canvas are 0.
 */
export function maskToOriginal(
  mask: ArrayLike<number>,
  inH: number,
  inW: number,
  t: SampleTransform,
  opts: { threshold?: number; mode?: 'nearest' | 'bilinear' } = {},
): Uint8Array {
  if (mask.length !== inH * inW) throw new Error(`maskToOriginal: mask has ${mask.length} values, expected ${inH}·${inW}`);
  const thr = opts.threshold ?? 0.5;
  const { origW, origH } = t;
  const out = new Uint8Array(origW * origH);
  // input coordinate of each original pixel centre, per column and per row
  const cx = new Float64Array(origW);
  for (let x = 0; x < origW; x++) cx[x] = (t.flipped ? origW - x - 0.5 : x + 0.5) * t.scale + t.padX;
  const cy = new Float64Array(origH);
  for (let y = 0; y < origH; y++) cy[y] = (y + 0.5) * t.scale + t.padY;
  if ((opts.mode ?? 'nearest') === 'nearest') {
    const ix = new Int32Array(origW);
    for (let x = 0; x < origW; x++) ix[x] = cx[x] >= 0 && cx[x] < inW ? Math.floor(cx[x]) : -1;
    for (let y = 0; y < origH; y++) {
      if (!(cy[y] >= 0 && cy[y] < inH)) continue;
      const row = Math.floor(cy[y]) * inW;
      const o = y * origW;
      for (let x = 0; x < origW; x++) if (ix[x] >= 0 && mask[row + ix[x]] >= thr) out[o + x] = 1;
    }
    return out;
  }
  for (let y = 0; y < origH; y++) {
    if (!(cy[y] >= 0 && cy[y] < inH)) continue;
    const fy = clamp(cy[y] - 0.5, 0, inH - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, inH - 1);
    const wy = fy - y0;
    for (let x = 0; x < origW; x++) {
      if (!(cx[x] >= 0 && cx[x] < inW)) continue;
      const fx = clamp(cx[x] - 0.5, 0, inW - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, inW - 1);
      const wx = fx - x0;
      const top = mask[y0 * inW + x0] * (1 - wx) + mask[y0 * inW + x1] * wx;
      const bot = mask[y1 * inW + x0] * (1 - wx) + mask[y1 * inW + x1] * wx;
      if (top * (1 - wy) + bot * wy >= thr) out[y * origW + x] = 1;
    }
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
