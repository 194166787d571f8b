// Prepared instances + a SampleTransform → SampleTargets at input resolution. Masks are resampled
// (nearest, the same pixel-centre mapping as the image) and boxes of masked instances are the tight boxes
// of their transformed masks, so boxes, masks and pixels cannot disagree; box-only instances map their
// corners. Instances left with (almost) nothing visible after flip/zoom/crop are dropped.
import type { MaskCrop, PreparedInstance } from './instances';
import type { SampleTargets, SampleTransform } from './types';
import { boxToInput } from './letterbox';

export interface TargetOptions {
  /** build the semantic map (0 background, k+1 class k, 255 ignore) */
  semantic: boolean;
  imageClass: number;
  /** an instance needs at least this many mask pixels / this box side (input px) to be kept (default 1) */
  minVisible?: number;
}

export interface BaseFrame {
  /** base-image size (the resolution the masks are stored at) */
  width: number;
  height: number;
}

export function buildTargets(
  instances: readonly PreparedInstance[],
  t: SampleTransform,
  base: BaseFrame,
  H: number,
  W: number,
  opts: TargetOptions,
): SampleTargets {
  const minVisible = opts.minVisible ?? 1;
  const boxes: number[] = [];
  const labels: number[] = [];
  const masks: (Uint8Array | null)[] = [];
  const areas: number[] = [];
  const ignore: { box: number[] | null; mask: Uint8Array | null }[] = [];

  for (const inst of instances) {
    if (inst.mask) {
      const r = transformMask(inst.mask, t, base, H, W);
      if (!r || r.count < minVisible) continue;
      if (inst.crowd) {
        ignore.push({ box: null, mask: r.mask });
        continue;
      }
      boxes.push(...r.box);
      labels.push(inst.label);
      masks.push(r.mask);
      areas.push(r.count);
    } else {
      const b = boxToInput(inst.box, t);
      const x1 = Math.max(0, b[0]);
      const y1 = Math.max(0, b[1]);
      const x2 = Math.min(W, b[2]);
      const y2 = Math.min(H, b[3]);
      if (!(x2 - x1 >= minVisible && y2 - y1 >= minVisible)) continue;
      if (inst.crowd) {
        ignore.push({ box: [x1, y1, x2, y2], mask: null });
        continue;
      }
      boxes.push(x1, y1, x2, y2);
      labels.push(inst.label);
      masks.push(null);
      areas.push((x2 - x1) * (y2 - y1));
    }
  }

  let semantic: Uint8Array | null = null;
  if (opts.semantic) {
    semantic = new Uint8Array(H * W);
    // unknown extent: box-only and crowd regions are ignored, unless a mask says otherwise
    for (let i = 0; i < masks.length; i++) if (!masks[i]) fillBox(semantic, W, H, boxes.slice(4 * i, 4 * i + 4), 255);
    for (const ig of ignore) {
      if (ig.box) fillBox(semantic, W, H, ig.box, 255);
      else if (ig.mask) paint(semantic, ig.mask, 255);
    }
    // larger objects first, so a smaller one lying on top keeps its pixels where masks overlap
    const order = masks.map((_, i) => i).filter((i) => masks[i]).sort((a, b) => areas[b] - areas[a] || a - b);
    for (const i of order) paint(semantic, masks[i]!, labels[i] + 1, boxes, i, W);
  }
  return {
    boxes: Float32Array.from(boxes),
    labels: Int32Array.from(labels),
    masks,
    semantic,
    imageClass: opts.imageClass,
  };
}

/** Copy a mask's pixels into the map as value v; with a box (tight, from the mask) only that area is visited. */
function paint(map: Uint8Array, mask: Uint8Array, v: number, boxes?: number[], i = 0, W = 0): void {
  if (!boxes) {
    for (let p = 0; p < map.length; p++) if (mask[p]) map[p] = v;
    return;
  }
  const [x0, y0, x1, y1] = boxes.slice(4 * i, 4 * i + 4);
  for (let y = y0; y < y1; y++) for (let p = y * W + x0, e = y * W + x1; p < e; p++) if (mask[p]) map[p] = v;
}

/** Pixels whose centres lie inside the box. */
function fillBox(map: Uint8Array, W: number, H: number, b: ArrayLike<number>, v: number): void {
  const x0 = Math.max(0, Math.ceil(b[0] - 0.5));
  const x1 = Math.min(W, Math.ceil(b[2] - 0.5));
  const y0 = Math.max(0, Math.ceil(b[1] - 0.5));
  const y1 = Math.min(H, Math.ceil(b[3] - 0.5));
  for (let y = y0; y < y1; y++) map.fill(v, y * W + x0, y * W + x1);
}

/** Nearest-neighbour: each input pixel centre maps back to the base image; only the crop's footprint is visited. */
function transformMask(crop: MaskCrop, t: SampleTransform, base: BaseFrame, H: number, W: number) {
  if (crop.w === 0 || crop.h === 0) return null;
  const fx = base.width / t.origW;
  const fy = base.height / t.origH;
  // crop extent in original pixels → input pixels
  const [ex1, ey1, ex2, ey2] = boxToInput([crop.x0 / fx, crop.y0 / fy, (crop.x0 + crop.w) / fx, (crop.y0 + crop.h) / fy], t);
  const xa = Math.max(0, Math.floor(ex1) - 1);
  const xb = Math.min(W, Math.ceil(ex2) + 1);
  const ya = Math.max(0, Math.floor(ey1) - 1);
  const yb = Math.min(H, Math.ceil(ey2) + 1);
  if (xa >= xb || ya >= yb) return null;
  const col = new Int32Array(xb - xa);
  for (let x = xa; x < xb; x++) {
    let o = (x + 0.5 - t.padX) / t.scale;
    if (!(o >= 0 && o < t.origW)) {
      col[x - xa] = -1;
      continue;
    }
    if (t.flipped) o = t.origW - o;
    const c = Math.floor(o * fx) - crop.x0;
    col[x - xa] = c >= 0 && c < crop.w ? c : -1;
  }
  const mask = new Uint8Array(H * W);
  let count = 0;
  let mx0 = W;
  let my0 = H;
  let mx1 = -1;
  let my1 = -1;
  for (let y = ya; y < yb; y++) {
    const o = (y + 0.5 - t.padY) / t.scale;
    const r = Math.floor(o * fy) - crop.y0;
    if (!(r >= 0 && r < crop.h && o >= 0 && o < t.origH)) continue;
    const srow = r * crop.w;
    const orow = y * W;
    for (let x = xa; x < xb; x++) {
      const c = col[x - xa];
      if (c < 0 || !crop.data[srow + c]) continue;
      mask[orow + x] = 1;
      count++;
      if (x < mx0) mx0 = x;
      if (x > mx1) mx1 = x;
      if (y < my0) my0 = y;
      my1 = y;
    }
  }
  if (count === 0) return null;
  return { mask, count, box: [mx0, my0, mx1 + 1, my1 + 1] as [number, number, number, number] };
}
