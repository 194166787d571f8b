// Putting imported geometry into the frame the studio shows: EXIF rotation (tools that ignore EXIF label the
// stored pixels, we show them rotated) and the image's bounds (boxes beyond the edge are clipped, alike for
// every format).
import type { Geometry } from '../../contract/schemas';
import { decodeMask, encodeMask } from '../geometry/rle';

/**
 * A point of the stored (raw) frame, W×H, in the displayed frame of EXIF orientation `o`. Orientations 5–8 swap
 * the sides; 2–4 keep them. Continuous coordinates: a pixel's corner (x, y) maps to a corner.
 */
export function orientPoint(x: number, y: number, o: number, W: number, H: number): [number, number] {
  switch (o) {
    case 2: return [W - x, y]; // mirrored
    case 3: return [W - x, H - y]; // 180°
    case 4: return [x, H - y]; // mirrored vertically
    case 5: return [y, x]; // transpose
    case 6: return [H - y, x]; // shown turned 90° clockwise
    case 7: return [H - y, W - x]; // transverse
    case 8: return [y, W - x]; // shown turned 90° counter-clockwise
    default: return [x, y];
  }
}

/** Geometry drawn on the raw W×H pixels, moved with the pixels into the displayed frame of orientation `o`. */
export function orientGeometry(g: Geometry, o: number, W: number, H: number): Geometry {
  if (o <= 1 || o > 8) return g;
  if (g.kind === 'box') {
    const [ax, ay] = orientPoint(g.x, g.y, o, W, H);
    const [bx, by] = orientPoint(g.x + g.w, g.y + g.h, o, W, H);
    return { kind: 'box', x: Math.min(ax, bx), y: Math.min(ay, by), w: Math.abs(bx - ax), h: Math.abs(by - ay) };
  }
  if (g.kind === 'polygon') {
    return {
      kind: 'polygon',
      rings: g.rings.map((r) => {
        const out = new Array<number>(r.length);
        for (let i = 0; i + 1 < r.length; i += 2) [out[i], out[i + 1]] = orientPoint(r[i], r[i + 1], o, W, H);
        return out;
      }),
    };
  }
  const [h, w] = g.rle.size;
  const m = decodeMask(g.rle);
  const swap = o >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(ow * oh);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!m[y * w + x]) continue;
      // the pixel's centre, mapped, gives the centre of its new pixel
      const [cx, cy] = orientPoint(x + 0.5, y + 0.5, o, w, h);
      out[Math.floor(cy) * ow + Math.floor(cx)] = 1;
    }
  }
  return { kind: 'mask', rle: encodeMask(out, oh, ow) };
}

/** Sub-pixel overshoot (rounding in the source) is clipped without a word. */
const SILENT_OVERSHOOT = 1;

export type Clipped = { geometry: Geometry; clipped: boolean; outside: false } | { outside: true };

/** Geometry cut to the W×H image: boxes intersected, polygon points clamped; `outside` when nothing is left. */
export function clipGeometry(g: Geometry, W: number, H: number): Clipped {
  if (!(W > 0 && H > 0) || g.kind === 'mask') return { geometry: g, clipped: false, outside: false };
  if (g.kind === 'box') {
    const x0 = Math.max(0, g.x);
    const y0 = Math.max(0, g.y);
    const x1 = Math.min(W, g.x + g.w);
    const y1 = Math.min(H, g.y + g.h);
    if (x1 <= x0 || y1 <= y0) return g.w > 0 && g.h > 0 ? { outside: true } : { geometry: g, clipped: false, outside: false };
    const over = Math.max(-g.x, -g.y, g.x + g.w - W, g.y + g.h - H);
    if (over <= 0) return { geometry: g, clipped: false, outside: false };
    return { geometry: { kind: 'box', x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, clipped: over > SILENT_OVERSHOOT, outside: false };
  }
  let over = 0;
  const rings = g.rings.map((r) =>
    r.map((v, i) => {
      const lim = i % 2 === 0 ? W : H;
      over = Math.max(over, -v, v - lim);
      return Math.min(lim, Math.max(0, v));
    }),
  );
  if (over <= 0) return { geometry: g, clipped: false, outside: false };
  const kept = rings.filter((r) => Math.abs(ringArea(r)) > 0);
  if (kept.length === 0) return { outside: true };
  return { geometry: { kind: 'polygon', rings: kept }, clipped: over > SILENT_OVERSHOOT, outside: false };
}

function ringArea(r: number[]): number {
  let a = 0;
  for (let i = 0; i + 1 < r.length; i += 2) {
    const j = (i + 2) % r.length;
    a += r[i] * r[j + 1] - r[j] * r[i + 1];
  }
  return a / 2;
}
