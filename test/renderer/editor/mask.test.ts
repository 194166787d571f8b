import { decodeMask, toBbox } from '../../../src-main/core/geometry/rle';
import { describe, expect, it } from 'vitest';
import { countOn, emptyMask, fillHoles, get, maskFromRle, maskToRle, paintDisc, paintStroke, polygonToMaskRle, maskRleToRings, translateRle } from '../../../src-renderer/src/editor/mask';
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

  it('crops from the runs exactly as a full decode would, also for masks that wrap columns', () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let t = 0; t < 20; t++) {
      const m = emptyMask(23, 17);
      for (let k = 0; k < 4; k++) paintDisc(m, rnd() * 23, rnd() * 17, 1 + rnd() * 6, 1);
      const crop = cropMask(maskToRle(m));
      for (let y = 0; y < 17; y++)
        for (let x = 0; x < 23; x++) expect(rasterHit(crop, x + 0.5, y + 0.5), `case ${t} at ${x},${y}`).toBe(get(m, x, y) === 1);
    }
  });
});

describe('moving masks', () => {
  /** The reference: shift every pixel of a full bitmap, dropping what leaves the image. */
  function shifted(m: ReturnType<typeof emptyMask>, dx: number, dy: number) {
    const out = emptyMask(m.w, m.h);
    for (let y = 0; y < m.h; y++)
      for (let x = 0; x < m.w; x++) if (m.data[y * m.w + x] && x + dx >= 0 && x + dx < m.w && y + dy >= 0 && y + dy < m.h) out.data[(y + dy) * m.w + x + dx] = 1;
    return out;
  }

  it('moves by whole pixels, clipping at every edge, identical to shifting the bitmap', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let t = 0; t < 30; t++) {
      const m = emptyMask(31, 19);
      for (let k = 0; k < 3; k++) paintDisc(m, rnd() * 31, rnd() * 19, 1 + rnd() * 8, 1);
      if (t === 0) m.data.fill(1); // runs spanning whole columns
      const dx = Math.round((rnd() - 0.5) * 40), dy = Math.round((rnd() - 0.5) * 26);
      const moved = translateRle(maskToRle(m), dx, dy);
      expect(moved, `case ${t} (${dx}, ${dy})`).toEqual(maskToRle(shifted(m, dx, dy)));
    }
  });

  it('is the identity for (0, 0) and empty once moved off the image', () => {
    const m = emptyMask(20, 10);
    paintDisc(m, 5, 5, 3, 1);
    const rle = maskToRle(m);
    expect(translateRle(rle, 0, 0)).toEqual(rle);
    expect(translateRle(rle, 0.4, -0.3)).toEqual(rle); // rounds to whole pixels
    expect(translateRle(rle, 30, 0)).toEqual(maskToRle(emptyMask(20, 10)));
    expect(translateRle(maskToRle(emptyMask(20, 10)), 3, 3)).toEqual(maskToRle(emptyMask(20, 10)));
  });
});
