// A dataset of large photos as a dataset of tiles: tile images (keys, regions, sizes, split and tags kept),
// boxes, polygons and masks cut to each tile in the tile's pixels, small photos kept whole, unknown sizes refused.
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../../src-main/core/datasets/types';
import { decodeMask, encodeMask, encodeMaskRaw } from '../../../src-main/core/geometry/rle';
import { cacheKeyOf, cropRle, geometryInTile, tileDataset, tileHash, tileKey } from '../../../src-main/core/training/tile-dataset';
import { parseRegionKey, regionKey, tileGrid } from '../../../src-main/core/training/tiles';

// a 200×100 photo in tiles of 120 px overlapping by 40: x starts 0 and 80, one row (height 100 ≤ 120)
const SPEC = { size: 120, overlap: 40 };

function ds(): Dataset {
  return {
    images: [
      { key: 'big', fileName: 'big.jpg', absPath: '/p/big.jpg', width: 200, height: 100, split: 'val', tags: ['sunny'] },
      { key: 'small', fileName: 'small.jpg', absPath: '/p/small.jpg', width: 100, height: 90, split: 'train' },
    ],
    classes: [{ name: 'a' }],
    annotations: [
      // inside tile 0 only (x 10..30)
      { imageKey: 'big', className: 'a', geometry: { kind: 'box', x: 10, y: 10, w: 20, h: 20 } },
      // x 100..130: whole in tile 1 (80..200); in tile 0 (0..120) 20 of 30 px wide → 2/3 visible, clipped to 100..120
      { imageKey: 'big', className: 'a', geometry: { kind: 'box', x: 100, y: 50, w: 30, h: 10 }, iscrowd: false, flags: { occluded: true } },
      // x 110..150: in tile 0 only 10 of 40 px → 1/4, cut away there
      { imageKey: 'big', className: 'a', geometry: { kind: 'box', x: 110, y: 0, w: 40, h: 10 } },
      { imageKey: 'small', className: 'a', geometry: { kind: 'box', x: 1, y: 2, w: 3, h: 4 } },
    ],
    issues: [],
  };
}

describe('tileDataset', () => {
  it('cuts large photos into tile images, keeps small ones whole and moves the boxes into tile pixels', () => {
    const t = tileDataset(ds(), SPEC);
    expect(tileGrid(200, 100, SPEC)).toEqual([{ x: 0, y: 0, w: 120, h: 100 }, { x: 80, y: 0, w: 120, h: 100 }]);
    expect(t.dataset.images.map((i) => i.key)).toEqual(['big#0', 'big#1', 'small']);
    expect(t.dataset.images[0]).toMatchObject({ key: tileKey('big', 0), fileName: 'big.jpg', absPath: '/p/big.jpg', width: 120, height: 100, split: 'val', tags: ['sunny'], crop: { x: 0, y: 0, w: 120, h: 100 } });
    expect(t.dataset.images[1].crop).toEqual({ x: 80, y: 0, w: 120, h: 100 });
    expect(t.dataset.images[2]).toEqual(ds().images[1]);
    expect(t.tileOf.get('big#1')).toEqual({ imageKey: 'big', index: 1, tile: { x: 80, y: 0, w: 120, h: 100 } });
    expect(t.tileOf.has('small')).toBe(false);
    expect(t).toMatchObject({ photosCut: 1, tiles: 2, cutAway: 1 });
    const of = (k: string) => t.dataset.annotations.filter((a) => a.imageKey === k).map((a) => a.geometry);
    expect(of('big#0')).toEqual([{ kind: 'box', x: 10, y: 10, w: 20, h: 20 }, { kind: 'box', x: 100, y: 50, w: 20, h: 10 }]);
    expect(of('big#1')).toEqual([{ kind: 'box', x: 20, y: 50, w: 30, h: 10 }, { kind: 'box', x: 30, y: 0, w: 40, h: 10 }]);
    expect(of('small')).toEqual([{ kind: 'box', x: 1, y: 2, w: 3, h: 4 }]);
    // the annotation's other fields travel with it
    expect(t.dataset.annotations.find((a) => a.imageKey === 'big#1' && a.flags)).toMatchObject({ flags: { occluded: true }, iscrowd: false });
    expect(t.dataset.classes).toEqual(ds().classes);
  });

  it('refuses a photo whose size is unknown, naming it', () => {
    const d = ds();
    d.images[0].width = 0;
    expect(() => tileDataset(d, SPEC)).toThrow(/image 'big.jpg': its size is not known, so it cannot be cut into tiles of 120 px/);
  });

  it('a tile\'s cache key names the photo and the rectangle', () => {
    expect(tileHash('ab12', { x: 80, y: 0, w: 120, h: 100 })).toBe('ab12@80,0,120,100');
  });
});

describe('polygons', () => {
  it('clips a polygon to the tile rectangle in the tile\'s pixels (Sutherland–Hodgman)', () => {
    // square 100..140 × 10..30 (area 800); tile 0 spans x 0..120: the part 100..120 is half of it → kept
    const sq = { kind: 'polygon' as const, rings: [[100, 10, 140, 10, 140, 30, 100, 30]] };
    const g = geometryInTile(sq, { x: 0, y: 0, w: 120, h: 100 });
    expect(g?.kind).toBe('polygon');
    const ring = (g as { rings: number[][] }).rings[0];
    const pts = new Set<string>();
    for (let i = 0; i < ring.length; i += 2) pts.add(`${ring[i]},${ring[i + 1]}`);
    expect([...pts].sort()).toEqual(['100,10', '100,30', '120,10', '120,30']);
    // in tile 1 (x 80..200) it is whole, moved left by 80
    expect(geometryInTile(sq, { x: 80, y: 0, w: 120, h: 100 })).toEqual({ kind: 'polygon', rings: [[20, 10, 60, 10, 60, 30, 20, 30]] });
    // a tile that sees only a quarter of it (x 0..110) drops it; one that sees none drops it
    expect(geometryInTile(sq, { x: 0, y: 0, w: 110, h: 100 })).toBeNull();
    expect(geometryInTile(sq, { x: 0, y: 50, w: 120, h: 50 })).toBeNull();
    // a lower threshold keeps the quarter
    expect(geometryInTile(sq, { x: 0, y: 0, w: 110, h: 100 }, 0.25)).toMatchObject({ kind: 'polygon' });
  });

  it('drops a ring that keeps no area and keeps the others', () => {
    const two = { kind: 'polygon' as const, rings: [[10, 10, 30, 10, 30, 30, 10, 30], [150, 10, 170, 10, 170, 30, 150, 30]] };
    expect(geometryInTile(two, { x: 0, y: 0, w: 120, h: 100 }, 0.4)).toEqual({ kind: 'polygon', rings: [[10, 10, 30, 10, 30, 30, 10, 30]] });
  });
});

describe('masks', () => {
  /** a row-major w×h mask with ones on [x0,x1)×[y0,y1) */
  function rect(w: number, h: number, x0: number, x1: number, y0: number, y1: number): Uint8Array {
    const m = new Uint8Array(w * h);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = 1;
    return m;
  }

  it('crops the runs to the tile without decoding, exactly as cropping the decoded mask', () => {
    const W = 9;
    const H = 7;
    // an L shape plus a pixel, so runs cross columns and the tile's edges
    const m = rect(W, H, 2, 7, 1, 6);
    for (let y = 0; y < H; y++) m[y * W + 0] = 1;
    m[6 * W + 8] = 1;
    const raw = encodeMaskRaw(m, H, W);
    for (const tile of [{ x: 1, y: 2, w: 5, h: 4 }, { x: 0, y: 0, w: 9, h: 7 }, { x: 4, y: 3, w: 5, h: 4 }, { x: 7, y: 0, w: 2, h: 1 }]) {
      const cut = cropRle(raw, tile);
      const want = new Uint8Array(tile.w * tile.h);
      for (let y = 0; y < tile.h; y++) for (let x = 0; x < tile.w; x++) want[y * tile.w + x] = m[(y + tile.y) * W + x + tile.x];
      expect(Array.from(decodeMask(cut.rle)), JSON.stringify(tile)).toEqual(Array.from(want));
      expect(cut.kept).toBe(want.reduce((a, b) => a + b, 0));
      expect(cut.total).toBe(m.reduce((a, b) => a + b, 0));
    }
  });

  it('keeps a mask in a tile that sees at least half of it, as an RLE of the tile\'s size', () => {
    // a 20×20 block at x 100..120 of a 200×100 photo: all in tile 1, all in tile 0 (0..120)
    const d: Dataset = {
      images: [{ key: 'big', fileName: 'big.png', absPath: '/p/big.png', width: 200, height: 100 }],
      classes: [{ name: 'a' }],
      annotations: [
        { imageKey: 'big', className: 'a', geometry: { kind: 'mask', rle: encodeMask(rect(200, 100, 100, 120, 40, 60), 100, 200) } },
        // 60 px wide at x 70..130: tile 0 sees 50/60, tile 1 sees 50/60
        { imageKey: 'big', className: 'a', geometry: { kind: 'mask', rle: encodeMask(rect(200, 100, 70, 130, 0, 10), 100, 200) } },
        // x 0..60: tile 1 (80..) sees none
        { imageKey: 'big', className: 'a', geometry: { kind: 'mask', rle: encodeMask(rect(200, 100, 0, 60, 90, 100), 100, 200) } },
      ],
      issues: [],
    };
    const t = tileDataset(d, SPEC);
    const masks = (k: string) => t.dataset.annotations.filter((a) => a.imageKey === k).map((a) => (a.geometry as { rle: { size: number[] } }).rle);
    expect(masks('big#0')).toHaveLength(3);
    expect(masks('big#1')).toHaveLength(2);
    const m1 = decodeMask(masks('big#1')[0] as never);
    expect(masks('big#1')[0].size).toEqual([100, 120]);
    expect(Array.from(m1)).toEqual(Array.from(rect(120, 100, 20, 40, 40, 60)));
    expect(Array.from(decodeMask(masks('big#0')[1] as never))).toEqual(Array.from(rect(120, 100, 70, 120, 0, 10)));
  });
});

describe('feature-cache keys of tiles', () => {
  it('a tile cut for training and the same rectangle cut by whole-photo prediction share one cache entry', () => {
    const hashes = new Map([['7', 'h7'], ['8', 'h8']]);
    const spec = { size: 100, overlap: 20 };
    const ds: Dataset = { images: [{ key: '7', fileName: 'a.jpg', absPath: '/x/a.jpg', width: 250, height: 120 }], classes: [], annotations: [], issues: [] };
    const t = tileDataset(ds, spec);
    const keyOf = cacheKeyOf(hashes, t.tileOf);
    const grid = tileGrid(250, 120, spec);
    expect(t.dataset.images.map((im) => keyOf(im.key))).toEqual(grid.map((g) => tileHash('h7', g)));
    // whole-photo prediction (eval/tiled-predict.ts) names the same rectangles by region
    expect(grid.map((g) => keyOf(regionKey('7', g)))).toEqual(grid.map((g) => tileHash('h7', g)));
    expect(keyOf('8')).toBe('h8');
    expect(keyOf(regionKey('9', grid[0]))).toBeUndefined();
    expect(parseRegionKey('a#tile@1,2,3x4')).toEqual({ photoKey: 'a', tile: { x: 1, y: 2, w: 3, h: 4 } });
    expect(parseRegionKey('a#tile@1,2,3,4')).toBeNull();
  });
});
