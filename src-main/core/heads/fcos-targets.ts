// FCOS target assignment (Tian et al. 2019/2020), computed on the JS side so the data pipeline (worker) can
// prepare it next to the batch: every location of every used level is positive for at most one ground-truth box.
//
// A location (x,y) on a level with stride s is a candidate for box j when
//   • it lies inside the box's centre region: the box ∩ a square of half-side radius·s around the box centre
//     ("centre sampling", radius 1.5);
//   • the largest of its distances l,t,r,b to the box sides lies in the level's scale range [lo, hi];
// and among candidates the box with the smallest area wins (the FCOS ambiguity rule).

export interface LevelShape {
  stride: number;
  h: number;
  w: number;
}

/** One image's ground truth for detection: boxes in input pixels (after letterbox/resize), labels 0..K-1. */
export interface BoxTargetsInput {
  /** [n*4] x1,y1,x2,y2 */
  boxes: ArrayLike<number>;
  /** [n] class index 0..K-1 */
  labels: ArrayLike<number>;
}

export interface FcosAssignOptions {
  numClasses: number;
  centerSampleRadius?: number; // 1.5
  /** One [lo, hi] per level (in pixels of max(l,t,r,b)); default from defaultScaleRanges. */
  scaleRanges?: readonly (readonly [number, number])[];
}

/** Per-location targets for a batch, flattened in the head's output order (image, level, row, column). */
export interface FcosTargets {
  batch: number;
  /** Locations per image (Σ h·w over levels). */
  numLocations: number;
  levels: LevelShape[];
  /** [B*N] class index of the assigned box, −1 for background. */
  labels: Int32Array;
  /** [B*N*4] l,t,r,b in pixels for positives; 1,1,1,1 for negatives (keeps the masked GIoU finite). */
  ltrb: Float32Array;
  /** [B*N] FCOS centerness target √(min(l,r)/max(l,r) · min(t,b)/max(t,b)) for positives, 0 otherwise. */
  centerness: Float32Array;
  /** [B*N] index of the assigned box within its image's BoxTargetsInput, −1 for background. */
  gtIndex: Int32Array;
  /** Total positives in the batch. */
  numPos: number;
}

/** Feature-map sizes for an input of imageH×imageW (the side network rounds up: conv stride-2 with padding). */
export function levelShapesFor(imageH: number, imageW: number, strides: readonly number[]): LevelShape[] {
  return strides.map((s) => ({ stride: s, h: Math.ceil(imageH / s), w: Math.ceil(imageW / s) }));
}

/**
 * FCOS's ranges scaled to the levels in use: level i covers (upper(i−1), 8·stride_i], the first starts at 0 and
 * the last is unbounded. Strides 8/16/32 give [0,64], [64,128], [128,∞) — the FCOS values for P3–P5.
 */
export function defaultScaleRanges(strides: readonly number[]): [number, number][] {
  return strides.map((s, i) => [i === 0 ? 0 : 8 * strides[i - 1], i === strides.length - 1 ? Infinity : 8 * s]);
}

/** Location centres (x,y) = (j·s + ⌊s/2⌋, i·s + ⌊s/2⌋), level by level, row-major: [N*2]. */
export function locationsFor(levels: readonly LevelShape[]): Float32Array {
  const n = levels.reduce((a, l) => a + l.h * l.w, 0);
  const out = new Float32Array(n * 2);
  let k = 0;
  for (const { stride: s, h, w } of levels) {
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        out[2 * k] = j * s + Math.floor(s / 2);
        out[2 * k + 1] = i * s + Math.floor(s / 2);
        k++;
      }
  }
  return out;
}

/** Stride of every location: [N]. */
export function locationStrides(levels: readonly LevelShape[]): Float32Array {
  const n = levels.reduce((a, l) => a + l.h * l.w, 0);
  const out = new Float32Array(n);
  let k = 0;
  for (const { stride, h, w } of levels) for (let i = 0; i < h * w; i++) out[k++] = stride;
  return out;
}

/** Usable boxes: finite, positive width and height (zero-area boxes are the data pipeline's warnings). */
export function validBox(b: ArrayLike<number>, j: number): boolean {
  const x1 = b[4 * j], y1 = b[4 * j + 1], x2 = b[4 * j + 2], y2 = b[4 * j + 3];
  return Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2) && x2 > x1 && y2 > y1;
}

export function assignFcosTargets(gts: readonly BoxTargetsInput[], levels: readonly LevelShape[], opts: FcosAssignOptions): FcosTargets {
  const radius = opts.centerSampleRadius ?? 1.5;
  const ranges = opts.scaleRanges ?? defaultScaleRanges(levels.map((l) => l.stride));
  if (ranges.length !== levels.length) throw new Error(`FCOS targets: ${ranges.length} scale ranges for ${levels.length} levels.`);
  const locs = locationsFor(levels);
  const N = locs.length / 2;
  const B = gts.length;
  const labels = new Int32Array(B * N).fill(-1);
  const ltrb = new Float32Array(B * N * 4).fill(1);
  const centerness = new Float32Array(B * N);
  const gtIndex = new Int32Array(B * N).fill(-1);
  let numPos = 0;

  // level of each location, for the scale range and the sampling radius
  const locLevel = new Int32Array(N);
  {
    let k = 0;
    levels.forEach((l, li) => {
      for (let i = 0; i < l.h * l.w; i++) locLevel[k++] = li;
    });
  }

  gts.forEach((gt, b) => {
    const nBoxes = gt.labels.length;
    if (gt.boxes.length !== nBoxes * 4) throw new Error(`FCOS targets: image ${b} has ${gt.boxes.length} box coordinates for ${nBoxes} labels.`);
    for (let j = 0; j < nBoxes; j++) {
      const c = gt.labels[j];
      if (!Number.isInteger(c) || c < 0 || c >= opts.numClasses)
        throw new Error(`FCOS targets: image ${b}, box ${j} has class ${c}, outside 0..${opts.numClasses - 1}.`);
    }
    const bx = gt.boxes;
    for (let k = 0; k < N; k++) {
      const x = locs[2 * k], y = locs[2 * k + 1];
      const li = locLevel[k];
      const s = levels[li].stride;
      const [lo, hi] = ranges[li];
      let best = -1;
      let bestArea = Infinity;
      for (let j = 0; j < nBoxes; j++) {
        if (!validBox(bx, j)) continue;
        const x1 = bx[4 * j], y1 = bx[4 * j + 1], x2 = bx[4 * j + 2], y2 = bx[4 * j + 3];
        const l = x - x1, t = y - y1, r = x2 - x, bb = y2 - y;
        if (Math.min(l, t, r, bb) <= 0) continue;
        const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, rad = radius * s;
        const cx1 = Math.max(cx - rad, x1), cy1 = Math.max(cy - rad, y1);
        const cx2 = Math.min(cx + rad, x2), cy2 = Math.min(cy + rad, y2);
        if (!(x > cx1 && x < cx2 && y > cy1 && y < cy2)) continue;
        const m = Math.max(l, t, r, bb);
        if (m < lo || m > hi) continue;
        const area = (x2 - x1) * (y2 - y1);
        if (area < bestArea) {
          bestArea = area;
          best = j;
        }
      }
      if (best < 0) continue;
      const o = b * N + k;
      const x1 = bx[4 * best], y1 = bx[4 * best + 1], x2 = bx[4 * best + 2], y2 = bx[4 * best + 3];
      const l = x - x1, t = y - y1, r = x2 - x, bb = y2 - y;
      labels[o] = gt.labels[best];
      gtIndex[o] = best;
      ltrb.set([l, t, r, bb], 4 * o);
      centerness[o] = Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, bb) / Math.max(t, bb)));
      numPos++;
    }
  });
  return { batch: B, numLocations: N, levels: levels.map((l) => ({ ...l })), labels, ltrb, centerness, gtIndex, numPos };
}
