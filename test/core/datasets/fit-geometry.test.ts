// orientPoint must move a point exactly as sharp's EXIF rotation moves the pixel under it; masks turn the same way.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clipGeometry, orientGeometry, orientPoint } from '../../../src-main/core/datasets/fit-geometry';
import { decodeMask, encodeMask } from '../../../src-main/core/geometry/rle';

const W = 7;
const H = 4;

/** Where sharp shows the stored pixel (x, y) of a W×H image with EXIF orientation o. */
async function shownAt(o: number, x: number, y: number): Promise<[number, number, number]> {
  const px = Buffer.alloc(W * H);
  px[y * W + x] = 255;
  const png = await sharp(px, { raw: { width: W, height: H, channels: 1 } }).png().withMetadata({ orientation: o }).toBuffer();
  const { data, info } = await sharp(png).rotate().raw().toBuffer({ resolveWithObject: true });
  const i = data.findIndex((v, k) => k % info.channels === 0 && v > 128) / info.channels;
  return [i % info.width, Math.floor(i / info.width), info.width];
}

describe('orientPoint', () => {
  it.each([2, 3, 4, 5, 6, 7, 8])('orientation %i matches sharp pixel for pixel', async (o) => {
    for (const [x, y] of [[0, 0], [5, 1], [2, 3]]) {
      const [sx, sy, sw] = await shownAt(o, x, y);
      const [cx, cy] = orientPoint(x + 0.5, y + 0.5, o, W, H);
      expect([Math.floor(cx), Math.floor(cy), sw]).toEqual([sx, sy, o >= 5 ? H : W]);
    }
  });

  it('turns masks with their pixels', () => {
    const m = new Uint8Array(W * H);
    m[1 * W + 5] = 1;
    const g = orientGeometry({ kind: 'mask', rle: encodeMask(m, H, W) }, 6, W, H);
    if (g.kind !== 'mask') throw new Error('not a mask');
    expect(g.rle.size).toEqual([W, H]);
    const out = decodeMask(g.rle);
    const [x, y] = orientPoint(5.5, 1.5, 6, W, H).map(Math.floor);
    expect([...out.keys()].filter((k) => out[k])).toEqual([y * H + x]);
  });
});

describe('clipGeometry', () => {
  it('leaves geometry inside alone and masks untouched', () => {
    const g = { kind: 'box' as const, x: 0, y: 0, w: 7, h: 4 };
    expect(clipGeometry(g, 7, 4)).toEqual({ geometry: g, clipped: false, outside: false });
    expect(clipGeometry({ kind: 'polygon', rings: [[-9, -9, -1, -9, -1, -1]] }, 7, 4)).toEqual({ outside: true });
  });
});
