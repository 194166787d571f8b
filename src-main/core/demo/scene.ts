// One synthetic picture: background clutter, then shapes placed one after another so that later shapes
// occlude earlier ones. Instance masks are exact: a pixel belongs to the top-most shape containing its centre,
// so an occluded shape's mask is its outline minus everything drawn over it. Placement is rejected when it
// would hide too much of an earlier shape, so every painted shape stays recognisable and is annotated.
import { Canvas, paintBackground } from './paint';
import { Rng } from './rng';
import { makeShape, type ShapeClassName, type ShapeInstance } from './shapes';

export interface SceneOptions {
  width: number;
  height: number;
  classes: readonly ShapeClassName[];
  /** Inclusive range of shapes per image. */
  objects: [number, number];
  /** Circumradius range as a fraction of min(width, height); sampled log-uniformly. */
  scale: [number, number];
  /** Minimum part of a shape that must stay visible after later shapes are drawn. */
  minVisible: number;
  /** Standard deviation of the sensor noise added at the end (0 for clean renders). */
  noise: number;
  /** Probability that a shape is placed next to an earlier one (to create overlaps). */
  overlap: number;
}

export interface SceneInstance {
  cls: ShapeClassName;
  /** Row-major 0/1 mask of the visible pixels. */
  mask: Uint8Array;
  /** Tight box of the mask [x, y, w, h] in pixels. */
  bbox: [number, number, number, number];
  area: number;
  /** Pixels of the full outline inside the image, before occlusion. */
  fullArea: number;
  shape: ShapeInstance;
}

export interface Scene {
  width: number;
  height: number;
  /** 8-bit RGB, row-major. */
  rgb: Buffer;
  instances: SceneInstance[];
}

const MIN_PIXELS = 12;

interface Placed {
  shape: ShapeInstance;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  full: number;
  visible: number;
}

/** Pixels whose centre lies inside the shape, as flat indices, clipped to the image. */
function members(s: ShapeInstance, w: number, h: number): { idx: number[]; x0: number; y0: number; x1: number; y1: number } {
  const x0 = Math.max(0, Math.floor(s.cx - s.r) - 1);
  const y0 = Math.max(0, Math.floor(s.cy - s.r) - 1);
  const x1 = Math.min(w - 1, Math.ceil(s.cx + s.r) + 1);
  const y1 = Math.min(h - 1, Math.ceil(s.cy + s.r) + 1);
  const idx: number[] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (s.inside(x + 0.5, y + 0.5)) idx.push(y * w + x);
  return { idx, x0, y0, x1, y1 };
}

/** Places shapes of the given classes (in order) without rendering; exported for tests of occlusion. */
export function placeShapes(rng: Rng, opts: SceneOptions, classSeq: readonly ShapeClassName[]): { owner: Int16Array; placed: Placed[] } {
  const { width: w, height: h } = opts;
  const owner = new Int16Array(w * h).fill(-1);
  const placed: Placed[] = [];
  const m = Math.min(w, h);
  const [smin, smax] = opts.scale;
  for (const cls of classSeq) {
    for (let attempt = 0; attempt < 40; attempt++) {
      const r = m * smin * Math.exp(rng.next() * Math.log(smax / smin)) * (attempt < 20 ? 1 : 0.7);
      let cx: number;
      let cy: number;
      if (placed.length > 0 && rng.next() < opts.overlap) {
        const other = rng.pick(placed).shape;
        const a = rng.uniform(0, 2 * Math.PI);
        const d = (other.r + r) * rng.uniform(0.4, 0.95);
        cx = other.cx + d * Math.cos(a);
        cy = other.cy + d * Math.sin(a);
      } else {
        cx = rng.uniform(0, w);
        cy = rng.uniform(0, h);
      }
      // let shapes run off the border a little, never mostly
      if (cx < 0.55 * r || cy < 0.55 * r || cx > w - 0.55 * r || cy > h - 0.55 * r) continue;
      const shape = makeShape(rng, cls, cx, cy, r);
      const mem = members(shape, w, h);
      if (mem.idx.length < MIN_PIXELS * 2) continue;
      const loss = new Map<number, number>();
      for (const p of mem.idx) if (owner[p] >= 0) loss.set(owner[p], (loss.get(owner[p]) ?? 0) + 1);
      let ok = true;
      for (const [k, l] of loss) {
        const pk = placed[k];
        if (pk.visible - l < Math.max(opts.minVisible * pk.full, MIN_PIXELS)) ok = false;
      }
      if (!ok) continue;
      for (const [k, l] of loss) placed[k].visible -= l;
      const k = placed.length;
      for (const p of mem.idx) owner[p] = k;
      placed.push({ shape, x0: mem.x0, y0: mem.y0, x1: mem.x1, y1: mem.y1, full: mem.idx.length, visible: mem.idx.length });
      break;
    }
  }
  return { owner, placed };
}

const SUB = [0.25, 0.75];

export function renderScene(rng: Rng, opts: SceneOptions, classSeq?: readonly ShapeClassName[]): Scene {
  const { width: w, height: h } = opts;
  if (!classSeq) {
    const n = rng.int(opts.objects[0], opts.objects[1]);
    const order = rng.shuffle([...opts.classes]);
    classSeq = Array.from({ length: n }, (_, j) => order[j % order.length]);
  }
  const cv = new Canvas(w, h);
  paintBackground(rng, cv);
  const { owner, placed } = placeShapes(rng, opts, classSeq);

  // paint in placement order with 2×2 supersampled edges
  for (const p of placed) {
    const s = p.shape;
    for (let y = p.y0; y <= p.y1; y++) {
      for (let x = p.x0; x <= p.x1; x++) {
        let cov = 0;
        for (const sy of SUB) for (const sx of SUB) if (s.inside(x + sx, y + sy)) cov++;
        if (cov) cv.blend(x, y, s.colour(x + 0.5, y + 0.5), cov / 4);
      }
    }
  }

  // uneven lighting and sensor noise over everything
  const la = rng.uniform(0, 2 * Math.PI);
  const lAmp = rng.uniform(0, 0.18);
  const lc = Math.cos(la) / Math.max(w, h);
  const ls = Math.sin(la) / Math.max(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const f = 1 + lAmp * ((x - w / 2) * lc + (y - h / 2) * ls) * 2;
      const i = (y * w + x) * 3;
      if (opts.noise) for (let c = 0; c < 3; c++) cv.data[i + c] = cv.data[i + c] * f + rng.grain() * opts.noise;
      else for (let c = 0; c < 3; c++) cv.data[i + c] *= f;
    }
  }

  const instances: SceneInstance[] = placed.map((p, k) => {
    const mask = new Uint8Array(w * h);
    let area = 0;
    let bx0 = w;
    let by0 = h;
    let bx1 = -1;
    let by1 = -1;
    for (let y = p.y0; y <= p.y1; y++) {
      for (let x = p.x0; x <= p.x1; x++) {
        if (owner[y * w + x] !== k) continue;
        mask[y * w + x] = 1;
        area++;
        if (x < bx0) bx0 = x;
        if (x > bx1) bx1 = x;
        if (y < by0) by0 = y;
        if (y > by1) by1 = y;
      }
    }
    return { cls: p.shape.cls, mask, bbox: [bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1], area, fullArea: p.full, shape: p.shape };
  });
  return { width: w, height: h, rgb: cv.toRgb8(), instances };
}
