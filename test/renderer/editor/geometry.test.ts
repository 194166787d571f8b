import { describe, expect, it } from 'vitest';
import { clampRect, distToSegment, geometryBounds, pointInRings, resizeBox, translate } from '../../../src-renderer/src/editor/geometry';
import { emptyMask, maskToRle, paintDisc } from '../../../src-renderer/src/editor/mask';
import { actualSize, fit, toImage, toScreen, zoomAt } from '../../../src-renderer/src/editor/viewport';

describe('geometry', () => {
  it('bounds boxes, polygons and masks', () => {
    expect(geometryBounds({ kind: 'box', x: 1, y: 2, w: 3, h: 4 })).toEqual({ x: 1, y: 2, w: 3, h: 4 });
    expect(geometryBounds({ kind: 'polygon', rings: [[5, 5, 10, 2, 8, 9]] })).toEqual({ x: 5, y: 2, w: 5, h: 7 });
    const m = emptyMask(20, 20);
    paintDisc(m, 10, 10, 1, 1);
    const b = geometryBounds({ kind: 'mask', rle: maskToRle(m) });
    expect(b.x).toBe(9);
    expect(b.w).toBe(2);
  });

  it('tests points in polygons (rings are a union)', () => {
    const sq = [0, 0, 10, 0, 10, 10, 0, 10];
    expect(pointInRings([sq], { x: 5, y: 5 })).toBe(true);
    expect(pointInRings([sq], { x: 15, y: 5 })).toBe(false);
    expect(pointInRings([sq, [20, 20, 30, 20, 30, 30]], { x: 28, y: 22 })).toBe(true);
  });

  it('resizes a box by a handle, flipping when dragged past the opposite edge', () => {
    const r = { x: 10, y: 10, w: 20, h: 10 };
    expect(resizeBox(r, 'se', { x: 40, y: 30 })).toEqual({ x: 10, y: 10, w: 30, h: 20 });
    expect(resizeBox(r, 'w', { x: 35, y: 0 })).toEqual({ x: 30, y: 10, w: 5, h: 10 });
    expect(resizeBox(r, 'n', { x: 0, y: 5 })).toEqual({ x: 10, y: 5, w: 20, h: 15 });
  });

  it('measures distance to a segment and clamps rects', () => {
    expect(distToSegment({ x: 5, y: 3 }, { x: 0, y: 0 }, { x: 10, y: 0 })).toEqual({ dist: 3, t: 0.5 });
    expect(distToSegment({ x: -4, y: 3 }, { x: 0, y: 0 }, { x: 10, y: 0 }).dist).toBe(5);
    expect(clampRect({ x: -5, y: 5, w: 20, h: 100 }, 10, 50)).toEqual({ x: 0, y: 5, w: 10, h: 45 });
  });

  it('translates boxes and polygons', () => {
    expect(translate({ kind: 'box', x: 1, y: 1, w: 2, h: 2 }, 3, 4)).toEqual({ kind: 'box', x: 4, y: 5, w: 2, h: 2 });
    expect(translate({ kind: 'polygon', rings: [[0, 0, 1, 0, 1, 1]] }, 1, 2)).toEqual({ kind: 'polygon', rings: [[1, 2, 2, 2, 2, 3]] });
  });
});

describe('viewport', () => {
  it('keeps the point under the cursor fixed while zooming', () => {
    const v = { scale: 0.5, tx: 10, ty: 20 };
    const at = { x: 200, y: 150 };
    const before = toImage(v, at);
    const z = zoomAt(v, at, 3);
    expect(z.scale).toBeCloseTo(1.5);
    const after = toImage(z, at);
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
  });

  it('fits the image centred and goes to 1:1', () => {
    const v = fit(6000, 4000, 1000, 800, 0);
    expect(v.scale).toBeCloseTo(1000 / 6000);
    expect(toScreen(v, { x: 3000, y: 2000 })).toEqual({ x: 500, y: 400 });
    const one = actualSize(v, 1000, 800);
    expect(one.scale).toBeCloseTo(1);
    expect(toImage(one, { x: 500, y: 400 }).x).toBeCloseTo(3000);
  });
});
