// Plain geometry on annotation shapes, in image pixels. No DOM, no Vue: unit-tested directly.
import type { Geometry } from '@contract/schemas';
import { toBbox } from '@core/geometry/rle';

export interface Point {
  x: number;
  y: number;
}
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function geometryBounds(g: Geometry): Rect {
  if (g.kind === 'box') return { x: g.x, y: g.y, w: g.w, h: g.h };
  if (g.kind === 'mask') {
    const [x, y, w, h] = toBbox(g.rle);
    return { x, y, w, h };
  }
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const ring of g.rings)
    for (let i = 0; i < ring.length; i += 2) {
      x0 = Math.min(x0, ring[i]);
      x1 = Math.max(x1, ring[i]);
      y0 = Math.min(y0, ring[i + 1]);
      y1 = Math.max(y1, ring[i + 1]);
    }
  return x0 === Infinity ? { x: 0, y: 0, w: 0, h: 0 } : { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

export function rectContains(r: Rect, p: Point, pad = 0): boolean {
  return p.x >= r.x - pad && p.x <= r.x + r.w + pad && p.y >= r.y - pad && p.y <= r.y + r.h + pad;
}

/** Inside any ring: rings of one polygon are a union (as pycocotools rasterises them), not holes. */
export function pointInRings(rings: readonly (readonly number[])[], p: Point): boolean {
  return rings.some((ring) => pointInRing(ring, p));
}

export function pointInRing(ring: readonly number[], p: Point): boolean {
  let inside = false;
  const n = ring.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = ring[2 * i], yi = ring[2 * i + 1], xj = ring[2 * j], yj = ring[2 * j + 1];
    if (yi > p.y !== yj > p.y && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function distToSegment(p: Point, a: Point, b: Point): { dist: number; t: number } {
  const dx = b.x - a.x, dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  const cx = a.x + t * dx, cy = a.y + t * dy;
  return { dist: Math.hypot(p.x - cx, p.y - cy), t };
}

/** A box from two corners in any order. */
export function rectFromCorners(a: Point, b: Point): Rect {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y) };
}

export function clampRect(r: Rect, width: number, height: number): Rect {
  const x0 = Math.max(0, Math.min(width, r.x)), y0 = Math.max(0, Math.min(height, r.y));
  const x1 = Math.max(0, Math.min(width, r.x + r.w)), y1 = Math.max(0, Math.min(height, r.y + r.h));
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

export function rectsIntersect(a: Rect, b: Rect): boolean {
  return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h;
}

/** Moves a box or polygon by (dx, dy); masks are moved by the caller (they need re-encoding). */
export function translate(g: Geometry, dx: number, dy: number): Geometry {
  if (g.kind === 'box') return { ...g, x: g.x + dx, y: g.y + dy };
  if (g.kind === 'polygon') return { ...g, rings: g.rings.map((r) => r.map((v, i) => v + (i % 2 ? dy : dx))) };
  return g;
}

export type BoxHandle = 'nw' | 'n' | 'ne' | 'e' | 'se' | 's' | 'sw' | 'w';
export const BOX_HANDLES: BoxHandle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

export function handlePoint(r: Rect, h: BoxHandle): Point {
  const cx = r.x + r.w / 2, cy = r.y + r.h / 2;
  const x = h.includes('w') ? r.x : h.includes('e') ? r.x + r.w : cx;
  const y = h.startsWith('n') ? r.y : h.startsWith('s') ? r.y + r.h : cy;
  return { x, y };
}

/** The box after dragging handle `h` to `p`; edges may cross (the box flips) and the result stays normalised. */
export function resizeBox(r: Rect, h: BoxHandle, p: Point): Rect {
  let x0 = r.x, y0 = r.y, x1 = r.x + r.w, y1 = r.y + r.h;
  if (h.includes('w')) x0 = p.x;
  if (h.includes('e')) x1 = p.x;
  if (h.startsWith('n')) y0 = p.y;
  if (h.startsWith('s')) y1 = p.y;
  return rectFromCorners({ x: x0, y: y0 }, { x: x1, y: y1 });
}
