import { describe, expect, it } from 'vitest';
import { area, decodeMask, encodeMask, toBbox } from '../../../src-main/core/geometry/rle';
import { boxToRle, polygonToRaw, polygonsToRle, rleToPolygons, ringArea, traceContours } from '../../../src-main/core/geometry/rasterize';
import { boxIou, geometryArea, geometryBbox, geometryIou } from '../../../src-main/core/geometry/iou';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('frPoly semantics', () => {
  it('an axis-aligned square [0,10]² covers columns and rows 0..9 (area 100)', () => {
    const raw = polygonToRaw([0, 0, 10, 0, 10, 10, 0, 10], 20, 20);
    // column-major: each of columns 0..9 is 10 ones then 10 zeros
    expect(raw.counts).toEqual([0, ...Array.from({ length: 19 }, () => 10), 210]);
    expect(area(raw)).toBe(100);
  });

  it('the vertex order (cw/ccw, start point) does not change the raster', () => {
    const a = polygonsToRle([[1.2, 0.7, 8.9, 2.1, 6.3, 7.7, 0.4, 5.5]], 10, 10);
    const b = polygonsToRle([[0.4, 5.5, 6.3, 7.7, 8.9, 2.1, 1.2, 0.7]], 10, 10);
    const c = polygonsToRle([[6.3, 7.7, 0.4, 5.5, 1.2, 0.7, 8.9, 2.1]], 10, 10);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('clips to the image', () => {
    const rle = polygonsToRle([[-5, -5, 50, -5, 50, 50, -5, 50]], 4, 6);
    expect(area(rle)).toBe(24);
  });

  it('rasterised area approximates the shoelace area of a triangle', () => {
    const tri = [2, 2, 40, 5, 15, 37];
    const a = area(polygonsToRle([tri], 50, 50));
    expect(Math.abs(a - Math.abs(ringArea(tri)))).toBeLessThan(0.06 * Math.abs(ringArea(tri)));
  });

  it('a box rasterises to its pixels', () => {
    const rle = boxToRle(2, 1, 3, 2, 5, 6);
    expect(area(rle)).toBe(6);
    expect(toBbox(rle)).toEqual([2, 1, 3, 2]);
  });

  it('multi-part polygons are unioned', () => {
    const rle = polygonsToRle([[0, 0, 2, 0, 2, 2, 0, 2], [1, 1, 3, 1, 3, 3, 1, 3]], 4, 4);
    expect(area(rle)).toBe(7);
  });
});

describe('mask → polygons', () => {
  it('traces a hole as a separate counter-clockwise ring', () => {
    const m = [
      1, 1, 1,
      1, 0, 1,
      1, 1, 1,
    ];
    const { outers, holes } = traceContours(m, 3, 3);
    expect(outers).toEqual([[0, 0, 3, 0, 3, 3, 0, 3]]);
    expect(holes).toHaveLength(1);
    expect(ringArea(holes[0])).toBe(-1);
  });

  it('diagonal pixels give two outlines (4-connectivity)', () => {
    const { outers } = traceContours([1, 0, 0, 1], 2, 2);
    expect(outers).toHaveLength(2);
  });

  it('hole-free random masks survive mask → polygons → frPoly bit-exactly', () => {
    const r = rng(11);
    let checked = 0;
    for (let t = 0; t < 300; t++) {
      const h = 2 + Math.floor(r() * 10), w = 2 + Math.floor(r() * 10);
      const m = new Uint8Array(h * w).map(() => (r() < 0.45 ? 1 : 0));
      const rle = encodeMask(m, h, w);
      const { rings, holesDropped } = rleToPolygons(rle);
      if (holesDropped) continue;
      checked++;
      expect(decodeMask(polygonsToRle(rings, h, w))).toEqual(m);
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('reports holes it cannot keep', () => {
    const rle = encodeMask([1, 1, 1, 1, 0, 1, 1, 1, 1], 3, 3);
    expect(rleToPolygons(rle).holesDropped).toBe(1);
  });
});

describe('iou helpers', () => {
  it('box iou, crowd iou, geometry area/bbox', () => {
    expect(boxIou([0, 0, 2, 2], [1, 0, 2, 2])).toBeCloseTo(2 / 6);
    expect(boxIou([0, 0, 2, 2], [1, 0, 2, 2], true)).toBeCloseTo(0.5);
    expect(boxIou([0, 0, 1, 1], [2, 2, 1, 1])).toBe(0);
    const poly = { kind: 'polygon' as const, rings: [[0, 0, 4, 0, 4, 4, 0, 4]] };
    expect(geometryArea(poly, 10, 10)).toBe(16);
    expect(geometryBbox(poly)).toEqual([0, 0, 4, 4]);
    const box = { kind: 'box' as const, x: 0, y: 0, w: 4, h: 2 };
    expect(geometryIou(poly, box, 10, 10)).toBeCloseTo(0.5);
  });
});
