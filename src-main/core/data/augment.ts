// Seeded augmentation: a fixed number of uniforms is drawn per sample (before any decoding, so the RNG
// stream never depends on I/O timing), then mapped to a flip, a zoom + placement (scale jitter with random
// translation/crop) and colour factors. Geometry goes into the SampleTransform, so image, masks and boxes
// all follow the same mapping; colour is applied to the resampled pixels.
import type { Rng } from './rng';
import type { AugmentOptions, Normalisation } from './types';

/** Uniforms drawn per sample: flip, zoom, placeX, placeY, brightness, contrast, saturation. */
export const DRAWS_PER_SAMPLE = 7;

export interface AugmentParams {
  flipped: boolean;
  zoom: number;
  placeX: number;
  placeY: number;
  brightness: number;
  contrast: number;
  saturation: number;
}

export const NO_AUGMENT: AugmentParams = { flipped: false, zoom: 1, placeX: 0.5, placeY: 0.5, brightness: 1, contrast: 1, saturation: 1 };

export function checkAugmentOptions(a: AugmentOptions): void {
  if (!(a.hflip >= 0 && a.hflip <= 1)) throw new Error(`augment.hflip must be a probability in [0, 1], got ${a.hflip}`);
  const [lo, hi] = a.scaleJitter ?? [1, 1];
  if (!(lo > 0 && hi >= lo && hi <= 8)) throw new Error(`augment.scaleJitter must be [lo, hi] with 0 < lo <= hi <= 8, got [${lo}, ${hi}]`);
  if (!(a.colorJitter >= 0 && a.colorJitter < 1)) throw new Error(`augment.colorJitter must be in [0, 1), got ${a.colorJitter}`);
}

export function drawUniforms(rng: Rng): Float64Array {
  const u = new Float64Array(DRAWS_PER_SAMPLE);
  for (let i = 0; i < DRAWS_PER_SAMPLE; i++) u[i] = rng.next();
  return u;
}

export function augmentParams(a: AugmentOptions, u: ArrayLike<number>): AugmentParams {
  const [lo, hi] = a.scaleJitter;
  const cj = a.colorJitter;
  return {
    flipped: u[0] < a.hflip,
    zoom: lo + (hi - lo) * u[1],
    placeX: u[2],
    placeY: u[3],
    brightness: 1 + cj * (2 * u[4] - 1),
    contrast: 1 + cj * (2 * u[5] - 1),
    saturation: 1 + cj * (2 * u[6] - 1),
  };
}

/**
 * RGB in [0, 1] → colour-jittered (brightness, then contrast around the mean grey of the image area, then
 * saturation against each pixel's grey; clamped to [0, 1] after each, as torchvision does) and normalised,
 * in place. Padding pixels become exactly 0, the normalised mean colour.
 */
export function colourAndNormalise(rgb: Float32Array, inside: Uint8Array, p: AugmentParams, norm: Normalisation): void {
  const n = inside.length;
  const [m0, m1, m2] = norm.mean;
  const [i0, i1, i2] = [1 / norm.std[0], 1 / norm.std[1], 1 / norm.std[2]];
  const jitter = p.brightness !== 1 || p.contrast !== 1 || p.saturation !== 1;
  let meanGrey = 0;
  if (jitter && p.contrast !== 1) {
    let s = 0;
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      if (!inside[i]) continue;
      const q = 3 * i;
      s += clamp01(rgb[q] * p.brightness) * 0.299 + clamp01(rgb[q + 1] * p.brightness) * 0.587 + clamp01(rgb[q + 2] * p.brightness) * 0.114;
      cnt++;
    }
    meanGrey = cnt > 0 ? s / cnt : 0;
  }
  const { brightness: b, contrast: c, saturation: sat } = p;
  for (let i = 0; i < n; i++) {
    const q = 3 * i;
    if (!inside[i]) {
      rgb[q] = rgb[q + 1] = rgb[q + 2] = 0;
      continue;
    }
    let r = rgb[q];
    let g = rgb[q + 1];
    let bl = rgb[q + 2];
    if (jitter) {
      r = clamp01(r * b);
      g = clamp01(g * b);
      bl = clamp01(bl * b);
      r = clamp01((r - meanGrey) * c + meanGrey);
      g = clamp01((g - meanGrey) * c + meanGrey);
      bl = clamp01((bl - meanGrey) * c + meanGrey);
      const grey = 0.299 * r + 0.587 * g + 0.114 * bl;
      r = clamp01(grey + (r - grey) * sat);
      g = clamp01(grey + (g - grey) * sat);
      bl = clamp01(grey + (bl - grey) * sat);
    }
    rgb[q] = (r - m0) * i0;
    rgb[q + 1] = (g - m1) * i1;
    rgb[q + 2] = (bl - m2) * i2;
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
