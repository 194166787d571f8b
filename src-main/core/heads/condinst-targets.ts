// CondInst training targets: which positive FCOS locations get a mask loss, their relative-coordinate maps and
// their ground-truth masks at the mask-feature resolution. Pure JS (typed arrays), so the data pipeline can build
// them in a worker.
import { locationsFor, locationStrides, type FcosTargets } from './fcos-targets';

export interface CondInstTargets {
  /** Instances (positive locations) that get a mask loss: M. */
  count: number;
  /** [M] index into the head's flattened [B·N] locations. */
  flatIndex: Int32Array;
  /** [M] image of each instance. */
  imageIndex: Int32Array;
  /** Mask-feature grid: maskH = ⌈H/maskStride⌉, maskW likewise. */
  maskH: number;
  maskW: number;
  /** [M·maskH·maskW·2] (Δx, Δy) = (location − pixel centre) / (8·stride of the location's level). */
  relCoords: Float32Array;
  /** [M·maskH·maskW] fraction of each mask-grid cell covered by the instance's mask (soft target in [0,1]). */
  gtMasks: Float32Array;
}

/** Instance masks for one image: one per box of its BoxTargetsInput (same order), H·W bytes (non-zero = inside), or null when that box has no mask. */
export type ImageMasks = readonly (Uint8Array | null)[];

/**
 * Relative coordinates of a location (x,y) with level stride s to every cell centre of the mask grid,
 * normalised by the level's size of interest 8·s (CondInst). Writes [maskH·maskW·2] at `out[offset]`.
 */
export function writeRelCoords(out: Float32Array, offset: number, x: number, y: number, s: number, maskStride: number, maskH: number, maskW: number): void {
  const soi = 8 * s;
  let o = offset;
  for (let i = 0; i < maskH; i++) {
    const py = i * maskStride + Math.floor(maskStride / 2);
    for (let j = 0; j < maskW; j++) {
      const px = j * maskStride + Math.floor(maskStride / 2);
      out[o++] = (x - px) / soi;
      out[o++] = (y - py) / soi;
    }
  }
}

/** Area-average downsampling of a H×W binary mask to ⌈H/f⌉×⌈W/f⌉ cells. */
export function downsampleMask(mask: Uint8Array, H: number, W: number, f: number, out: Float32Array, offset: number): void {
  const h = Math.ceil(H / f);
  const w = Math.ceil(W / f);
  for (let i = 0; i < h; i++) {
    const y0 = i * f, y1 = Math.min(H, y0 + f);
    for (let j = 0; j < w; j++) {
      const x0 = j * f, x1 = Math.min(W, x0 + f);
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (mask[y * W + x]) s++;
      out[offset + i * w + j] = s / (f * f);
    }
  }
}

/**
 * Picks up to `maxInstances` positive locations that have a GT mask (evenly spaced over the batch when there are
 * more, so every image keeps a share) and builds their targets. `imageH/W` is the network input size.
 */
export function buildCondInstTargets(
  fcos: FcosTargets,
  masks: readonly ImageMasks[],
  imageH: number,
  imageW: number,
  maskStride: number,
  maxInstances = 64,
): CondInstTargets {
  if (masks.length !== fcos.batch) throw new Error(`CondInst targets: masks for ${masks.length} images, FCOS targets for ${fcos.batch}.`);
  const N = fcos.numLocations;
  const cand: number[] = [];
  for (let i = 0; i < fcos.batch * N; i++) {
    const g = fcos.gtIndex[i];
    if (g < 0) continue;
    const b = Math.floor(i / N);
    const m = masks[b][g];
    if (!m) continue;
    if (m.length !== imageH * imageW) throw new Error(`CondInst targets: image ${b}, instance ${g} has a mask of ${m.length} pixels, expected ${imageH}×${imageW}.`);
    cand.push(i);
  }
  let chosen = cand;
  if (cand.length > maxInstances) {
    chosen = [];
    for (let q = 0; q < maxInstances; q++) chosen.push(cand[Math.floor((q * cand.length) / maxInstances)]);
  }
  const M = chosen.length;
  const maskH = Math.ceil(imageH / maskStride);
  const maskW = Math.ceil(imageW / maskStride);
  const P = maskH * maskW;
  const locs = locationsFor(fcos.levels);
  const strides = locationStrides(fcos.levels);
  const t: CondInstTargets = {
    count: M,
    flatIndex: new Int32Array(M),
    imageIndex: new Int32Array(M),
    maskH,
    maskW,
    relCoords: new Float32Array(M * P * 2),
    gtMasks: new Float32Array(M * P),
  };
  // the same GT mask is usually chosen at several locations: downsample each once
  const cache = new Map<string, Float32Array>();
  chosen.forEach((i, q) => {
    const b = Math.floor(i / N);
    const k = i % N;
    const g = fcos.gtIndex[i];
    t.flatIndex[q] = i;
    t.imageIndex[q] = b;
    writeRelCoords(t.relCoords, q * P * 2, locs[2 * k], locs[2 * k + 1], strides[k], maskStride, maskH, maskW);
    const key = `${b}:${g}`;
    let ds = cache.get(key);
    if (!ds) {
      ds = new Float32Array(P);
      downsampleMask(masks[b][g]!, imageH, imageW, maskStride, ds, 0);
      cache.set(key, ds);
    }
    t.gtMasks.set(ds, q * P);
  });
  return t;
}
