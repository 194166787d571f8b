import { decodeMask, toBbox } from '../../../src-main/core/geometry/rle';
import { describe, expect, it } from 'vitest';
import { countOn, emptyMask, fillHoles, get, maskFromRle, maskToRle, paintDisc, paintStroke, polygonToMaskRle, maskRleToRings } from '../../../src-renderer/src/editor/mask';
import { cropMask, rasterHit } from '../../../src-renderer/src/editor/mask-raster';

describe('brush masks', () => {
  it('paints a disc where asked and round-trips through RLE', () => {
    const m = emptyMask(40, 30);
    paintDisc(m, 20.5, 10.5, 3, 1);
    expect(get(m, 20, 10)).toBe(1);
    expect(get(m, 20, 14)).toBe(0);
    expect(get(m, 23, 10)).toBe(1);
    const rle = maskToRle(m);
    expect(rle.size).toEqual([30, 40]);
    expect(toBbox(rle)).toEqual([17, 7, 7, 7]);
    const back = maskFromRle(rle);
    expect([...back.data]).toEqual([...m.data]);
    expect([...decodeMask(rle)]).toEqual([...m.data]);
  });

  it('leaves no gaps along a fast stroke and erases with value 0', () => {
    const m = emptyMask(100, 20);
    paintStroke(m, [{ x: 5, y: 10 }, { x: 95, y: 10 }], 2, 1);
    for (let x = 5; x < 95; x++) expect(get(m, x, 10), `x=${x}`).toBe(1);
    paintStroke(m, [{ x: 50, y: 10 }], 5, 0);
    expect(get(m, 50, 10)).toBe(0);
    expect(get(m, 30, 10)).toBe(1);
  });

  it('fills holes but not background touching the border', () => {
    const m = emptyMask(9, 9);
    for (let i = 2; i <= 6; i++) for (const [x, y] of [[i, 2], [i, 6], [2, i], [6, i]]) m.data[y * 9 + x] = 1;
    expect(get(m, 4, 4)).toBe(0);
    const f = fillHoles(m);
    expect(get(f, 4, 4)).toBe(1);
    expect(get(f, 0, 0)).toBe(0);
    expect(countOn(f)).toBe(25);
  });

  it('converts polygon ↔ mask', () => {
    const rle = polygonToMaskRle([[10, 10, 30, 10, 30, 20, 10, 20]], 50, 40);
    const [x, y, w, h] = toBbox(rle);
    expect([x, y]).toEqual([10, 10]);
    expect(w).toBeGreaterThanOrEqual(20);
    expect(h).toBeGreaterThanOrEqual(10);
    const rings = maskRleToRings(rle);
    expect(rings.length).toBe(1);
  });

  it('crops a mask to its box for drawing and exact hit tests', () => {
    const m = emptyMask(50, 40);
    paintDisc(m, 30.5, 20.5, 4, 1);
    const crop = cropMask(maskToRle(m));
    expect([crop.x, crop.y, crop.w, crop.h]).toEqual([26, 16, 9, 9]); // pixel centres within 4 px of (30.5, 20.5)
    expect(rasterHit(crop, 30.2, 20.7)).toBe(true);
    expect(rasterHit(crop, 26.1, 16.1)).toBe(false); // corner of the box, outside the disc
    expect(rasterHit(crop, 10, 10)).toBe(false);
  });
});
