// Geometry checked against its image, per kind: what is stored, clipped or refused (with the field and limit).
import { describe, expect, it } from 'vitest';
import type { Geometry } from '../../../src-main/contract/schemas';
import { compress } from '../../../src-main/core/geometry/rle';
import { checkGeometry, clipRing, GeometryError, GEOMETRY_LIMITS, ringArea } from '../../../src-main/core/geometry/validate';

const W = 160;
const H = 120;
const ok = (g: Geometry) => checkGeometry(g, W, H, 'g');
const refused = (g: unknown, field: string, msg: RegExp) => {
  let err: unknown;
  try {
    checkGeometry(g as Geometry, W, H, 'g');
  } catch (e) {
    err = e;
  }
  expect(err, JSON.stringify(g).slice(0, 200)).toBeInstanceOf(GeometryError);
  expect((err as GeometryError).field).toBe(field);
  expect((err as GeometryError).message).toMatch(msg);
};

describe('boxes', () => {
  it('keeps a box inside the image as it is', () => {
    const g: Geometry = { kind: 'box', x: 1.5, y: 2, w: 10, h: 20 };
    expect(ok(g)).toEqual({ geometry: g, clipped: false });
    expect(ok({ kind: 'box', x: 0, y: 0, w: W, h: H }).clipped).toBe(false);
  });
  it('clips a box partly outside to the image', () => {
    expect(ok({ kind: 'box', x: -10, y: 100, w: 30, h: 50 })).toEqual({ geometry: { kind: 'box', x: 0, y: 100, w: 20, h: 20 }, clipped: true });
    expect(ok({ kind: 'box', x: -1e5, y: -5, w: 1e5 + 20, h: 1e6 }).geometry).toEqual({ kind: 'box', x: 0, y: 0, w: 20, h: H });
  });
  it('refuses boxes wholly outside, of zero or negative size, non-finite or beyond the coordinate limit', () => {
    refused({ kind: 'box', x: -1e6, y: 0, w: 10, h: 10 }, 'g', /wholly outside the 160×120 image/);
    refused({ kind: 'box', x: W, y: 0, w: 10, h: 10 }, 'g', /wholly outside/);
    refused({ kind: 'box', x: 1, y: 1, w: 0, h: 10 }, 'g.w', /positive width/);
    refused({ kind: 'box', x: 1, y: 1, w: 5, h: -1 }, 'g.h', /positive height/);
    refused({ kind: 'box', x: 1, y: 1, w: 1e308, h: 5 }, 'g.w', /limited to ±1000000/);
    refused({ kind: 'box', x: Number.NaN, y: 1, w: 5, h: 5 }, 'g.x', /finite/);
    refused({ kind: 'box', x: 1, y: Infinity, w: 5, h: 5 }, 'g.y', /finite/);
  });
});

describe('polygons', () => {
  it('keeps rings inside the image, clips rings partly outside and drops rings wholly outside', () => {
    const tri: Geometry = { kind: 'polygon', rings: [[10, 10, 50, 10, 30, 40]] };
    expect(ok(tri)).toEqual({ geometry: tri, clipped: false });
    const r = ok({ kind: 'polygon', rings: [[-20, 10, 40, 10, 40, 50, -20, 50], [500, 500, 600, 500, 600, 600]] });
    expect(r.clipped).toBe(true);
    const rings = (r.geometry as { rings: number[][] }).rings;
    expect(rings).toHaveLength(1);
    expect(ringArea(rings[0])).toBeCloseTo(40 * 40);
    for (let i = 0; i < rings[0].length; i += 2) expect(rings[0][i]).toBeGreaterThanOrEqual(0);
  });
  it('refuses odd coordinate counts, fewer than 3 points, no area, wholly outside, non-finite and oversized', () => {
    refused({ kind: 'polygon', rings: [[1, 1, 5, 5, 9, 1, 4]] }, 'g.rings[0]', /even count/);
    refused({ kind: 'polygon', rings: [[1, 1, 5, 5]] }, 'g.rings[0]', /at least 3/);
    refused({ kind: 'polygon', rings: [] }, 'g.rings', /at least one ring/);
    refused({ kind: 'polygon', rings: [[1, 1, 2, 2, 3, 3]] }, 'g.rings', /no area/);
    refused({ kind: 'polygon', rings: [[-100, -100, -50, -100, -50, -50]] }, 'g.rings', /wholly outside/);
    refused({ kind: 'polygon', rings: [[1, 1, NaN, 2, 3, 9]] }, 'g.rings[0][2]', /finite/);
    refused({ kind: 'polygon', rings: Array.from({ length: GEOMETRY_LIMITS.maxRings + 1 }, () => [1, 1, 5, 1, 5, 5]) }, 'g.rings', /limit is 1000/);
    const big = Array.from({ length: GEOMETRY_LIMITS.maxPolygonCoords + 2 }, (_, i) => (i % 4 < 2 ? 1 : 5));
    refused({ kind: 'polygon', rings: [big] }, 'g.rings', /200000 coordinates/);
  });
  it('clipRing matches the rectangle intersection', () => {
    const c = clipRing([-10, -10, 200, -10, 200, 200, -10, 200], W, H);
    expect(ringArea(c)).toBeCloseTo(W * H);
  });
});

describe('masks', () => {
  const mask = (h: number, w: number, counts: number[]): Geometry => ({ kind: 'mask', rle: compress({ size: [h, w], counts }) });
  it('keeps an RLE that decodes to exactly the image size', () => {
    const g = mask(H, W, [100, 50, H * W - 150]);
    expect(ok(g)).toEqual({ geometry: g, clipped: false });
  });
  it('refuses undecodable counts, another size, wrong sums, empty masks and oversized strings', () => {
    refused({ kind: 'mask', rle: { size: [H, W], counts: 'hello world' } }, 'g.rle.counts', /does not decode/);
    refused({ kind: 'mask', rle: { size: [1e9, 1e9], counts: '52' } }, 'g.rle.size', /must be \[120, 160\]/);
    refused(mask(80, 80, [10, 10, 6380]), 'g.rle.size', /is \[80, 80\] but the image is 120 high and 160 wide/);
    refused(mask(H, W, [10, 10, 5]), 'g.rle.counts', /sum to 25/);
    refused(mask(H, W, [H * W]), 'g.rle.counts', /empty/);
    refused({ kind: 'mask', rle: { size: [H, W], counts: '0'.repeat(GEOMETRY_LIMITS.maxRleChars + 1) } }, 'g.rle.counts', /limit is 1000000/);
    refused({ kind: 'mask', rle: { size: [H, W], counts: [1, 2, 3] } }, 'g.rle.counts', /compressed/);
  });
  it('refuses an unknown kind', () => {
    refused({ kind: 'circle', r: 3 }, 'g.kind', /box, polygon or mask/);
  });
});
