// A geometry checked against the image it is drawn on, before it is stored: what an exporter, the trainer or the
// editor can rely on afterwards. Boxes and polygons partly outside the image are clipped to it; what lies wholly
// outside, has no area, or a mask that does not decode to exactly the image's size, is refused with a sentence
// naming the field. Size limits are far above any real annotation (a traced 4K mask's polygon has a few thousand
// points; its RLE a few KB) and each error says the limit.
import { LIMITS, type Geometry } from '../../contract/schemas';
import { checkCounts, countsFromString } from './rle';

/** The contract's limits (contract/schemas.ts LIMITS): one set of numbers for the schema and this check. */
export const GEOMETRY_LIMITS = LIMITS;

export class GeometryError extends Error {
  readonly status = 400 as const;
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'GeometryError';
  }
}

export interface CheckedGeometry {
  geometry: Geometry;
  /** true when the geometry was clipped to the image (so it differs from the input) */
  clipped: boolean;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Sutherland–Hodgman against the rectangle [0,w]×[0,h]; returns the clipped flat ring (may be empty). */
export function clipRing(ring: readonly number[], w: number, h: number): number[] {
  let pts: [number, number][] = [];
  for (let i = 0; i + 1 < ring.length; i += 2) pts.push([ring[i], ring[i + 1]]);
  const edges: [(p: [number, number]) => boolean, (a: [number, number], b: [number, number]) => [number, number]][] = [
    [(p) => p[0] >= 0, (a, b) => [0, a[1] + ((b[1] - a[1]) * (0 - a[0])) / (b[0] - a[0])]],
    [(p) => p[0] <= w, (a, b) => [w, a[1] + ((b[1] - a[1]) * (w - a[0])) / (b[0] - a[0])]],
    [(p) => p[1] >= 0, (a, b) => [a[0] + ((b[0] - a[0]) * (0 - a[1])) / (b[1] - a[1]), 0]],
    [(p) => p[1] <= h, (a, b) => [a[0] + ((b[0] - a[0]) * (h - a[1])) / (b[1] - a[1]), h]],
  ];
  for (const [inside, cut] of edges) {
    if (!pts.length) break;
    const out: [number, number][] = [];
    for (let i = 0; i < pts.length; i++) {
      const cur = pts[i];
      const prev = pts[(i + pts.length - 1) % pts.length];
      const ci = inside(cur);
      const pi = inside(prev);
      if (ci) {
        if (!pi) out.push(cut(prev, cur));
        out.push(cur);
      } else if (pi) out.push(cut(prev, cur));
    }
    pts = out;
  }
  return pts.flat();
}

/** Shoelace area of a flat ring (absolute). */
export function ringArea(ring: readonly number[]): number {
  let a = 0;
  const n = ring.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    a += ring[2 * i] * ring[2 * j + 1] - ring[2 * j] * ring[2 * i + 1];
  }
  return Math.abs(a) / 2;
}

function checkBox(g: Extract<Geometry, { kind: 'box' }>, w: number, h: number, f: string): CheckedGeometry {
  for (const k of ['x', 'y', 'w', 'h'] as const) {
    if (!finite(g[k])) throw new GeometryError(`${f}.${k} must be a finite number, got ${String(g[k])}`, `${f}.${k}`);
    if (Math.abs(g[k]) > GEOMETRY_LIMITS.maxCoord) throw new GeometryError(`${f}.${k} is ${g[k]}; box coordinates are limited to ±${GEOMETRY_LIMITS.maxCoord} px`, `${f}.${k}`);
  }
  if (!(g.w > 0)) throw new GeometryError(`${f}.w is ${g.w}: a box must have a positive width`, `${f}.w`);
  if (!(g.h > 0)) throw new GeometryError(`${f}.h is ${g.h}: a box must have a positive height`, `${f}.h`);
  const x0 = Math.max(0, g.x);
  const y0 = Math.max(0, g.y);
  const x1 = Math.min(w, g.x + g.w);
  const y1 = Math.min(h, g.y + g.h);
  if (!(x1 > x0 && y1 > y0)) {
    throw new GeometryError(`${f}: the box (${g.x}, ${g.y}, ${g.w}×${g.h}) lies wholly outside the ${w}×${h} image`, f);
  }
  if (x0 === g.x && y0 === g.y && x1 === g.x + g.w && y1 === g.y + g.h) return { geometry: g, clipped: false };
  return { geometry: { kind: 'box', x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, clipped: true };
}

function checkPolygon(g: Extract<Geometry, { kind: 'polygon' }>, w: number, h: number, f: string): CheckedGeometry {
  if (!Array.isArray(g.rings) || g.rings.length === 0) throw new GeometryError(`${f}.rings: a polygon needs at least one ring`, `${f}.rings`);
  if (g.rings.length > GEOMETRY_LIMITS.maxRings) {
    throw new GeometryError(`${f}.rings has ${g.rings.length} rings; the limit is ${GEOMETRY_LIMITS.maxRings}`, `${f}.rings`);
  }
  let total = 0;
  for (let r = 0; r < g.rings.length; r++) {
    const ring = g.rings[r];
    const rf = `${f}.rings[${r}]`;
    if (!Array.isArray(ring)) throw new GeometryError(`${rf} must be a list of numbers`, rf);
    total += ring.length;
    if (total > GEOMETRY_LIMITS.maxPolygonCoords) {
      throw new GeometryError(`${f}.rings hold more than ${GEOMETRY_LIMITS.maxPolygonCoords} coordinates (${GEOMETRY_LIMITS.maxPolygonCoords / 2} points); that is the limit`, `${f}.rings`);
    }
    if (ring.length % 2 !== 0) throw new GeometryError(`${rf} has ${ring.length} numbers: x,y pairs need an even count`, rf);
    if (ring.length < 6) throw new GeometryError(`${rf} has ${ring.length / 2} point${ring.length === 2 ? '' : 's'}: a polygon ring needs at least 3`, rf);
    for (let i = 0; i < ring.length; i++) {
      if (!finite(ring[i])) throw new GeometryError(`${rf}[${i}] must be a finite number, got ${String(ring[i])}`, `${rf}[${i}]`);
      if (Math.abs(ring[i]) > GEOMETRY_LIMITS.maxCoord) throw new GeometryError(`${rf}[${i}] is ${ring[i]}; coordinates are limited to ±${GEOMETRY_LIMITS.maxCoord} px`, `${rf}[${i}]`);
    }
  }
  let clipped = false;
  const rings: number[][] = [];
  for (const ring of g.rings) {
    let inside = true;
    for (let i = 0; i < ring.length && inside; i += 2) inside = ring[i] >= 0 && ring[i] <= w && ring[i + 1] >= 0 && ring[i + 1] <= h;
    const out = inside ? [...ring] : clipRing(ring, w, h);
    if (!inside) clipped = true;
    if (out.length >= 6 && ringArea(out) > 0) rings.push(out);
    else clipped = true;
  }
  if (!rings.length) {
    const anyArea = g.rings.some((r) => ringArea(r) > 0);
    throw new GeometryError(anyArea ? `${f}: the polygon lies wholly outside the ${w}×${h} image` : `${f}: the polygon has no area (all its points are on one line)`, `${f}.rings`);
  }
  return clipped ? { geometry: { kind: 'polygon', rings }, clipped } : { geometry: g, clipped };
}

function checkMask(g: Extract<Geometry, { kind: 'mask' }>, w: number, h: number, f: string): CheckedGeometry {
  const rle = g.rle as { size?: unknown; counts?: unknown } | undefined;
  if (!rle || !Array.isArray(rle.size) || rle.size.length !== 2) throw new GeometryError(`${f}.rle.size must be [height, width]`, `${f}.rle.size`);
  const [rh, rw] = rle.size as unknown[];
  if (rh !== h || rw !== w) {
    throw new GeometryError(`${f}.rle.size is [${String(rh)}, ${String(rw)}] but the image is ${h} high and ${w} wide: a mask must be [${h}, ${w}]`, `${f}.rle.size`);
  }
  if (typeof rle.counts !== 'string') throw new GeometryError(`${f}.rle.counts must be a compressed (string) RLE`, `${f}.rle.counts`);
  if (rle.counts.length > GEOMETRY_LIMITS.maxRleChars) {
    throw new GeometryError(`${f}.rle.counts has ${rle.counts.length} characters; the limit is ${GEOMETRY_LIMITS.maxRleChars}`, `${f}.rle.counts`);
  }
  let counts: number[];
  try {
    counts = countsFromString(rle.counts);
  } catch (err) {
    throw new GeometryError(`${f}.rle.counts does not decode: ${(err as Error).message}`, `${f}.rle.counts`);
  }
  const bad = checkCounts([h, w], counts);
  if (bad) throw new GeometryError(`${f}.rle.counts does not decode to the ${w}×${h} image: ${bad}`, `${f}.rle.counts`);
  let fg = 0;
  for (let i = 1; i < counts.length; i += 2) fg += counts[i];
  if (fg === 0) throw new GeometryError(`${f}: the mask is empty (no pixel set)`, `${f}.rle.counts`);
  return { geometry: g, clipped: false };
}

/**
 * Checks `g` against a `width`×`height` image. `field` names it in errors ("changeset.created[0].geometry").
 * Returns the geometry to store (clipped when it lay partly outside). Throws GeometryError.
 */
export function checkGeometry(g: Geometry, width: number, height: number, field = 'geometry'): CheckedGeometry {
  switch (g?.kind) {
    case 'box':
      return checkBox(g, width, height, field);
    case 'polygon':
      return checkPolygon(g, width, height, field);
    case 'mask':
      return checkMask(g, width, height, field);
    default:
      throw new GeometryError(`${field}.kind must be box, polygon or mask, got ${String((g as { kind?: unknown })?.kind)}`, `${field}.kind`);
  }
}
