// Tiling a large photo and merging the tiles' detections back into one set in the photo's pixels.
import { describe, expect, it } from 'vitest';
import { boxInTile, mergeTileDetections, stitchTileMaps, tileCount, tileGrid } from '../../../src-main/core/geometry/tiles';

describe('tileGrid', () => {
  it('covers every pixel of a 4000×3000 photo with neighbours overlapping by at least the overlap', () => {
    const spec = { size: 960, overlap: 120 };
    const tiles = tileGrid(4000, 3000, spec);
    expect(tiles).toHaveLength(tileCount(4000, 3000, spec));
    expect(tiles).toHaveLength(5 * 4);
    const xs = [...new Set(tiles.map((t) => t.x))].sort((a, b) => a - b);
    expect(xs[0]).toBe(0);
    expect(xs.at(-1)! + 960).toBe(4000);
    for (let i = 1; i < xs.length; i++) expect(xs[i - 1] + 960 - xs[i]).toBeGreaterThanOrEqual(120);
    for (const [px, py] of [[0, 0], [3999, 2999], [1234, 2222], [961, 5]]) expect(tiles.some((t) => px >= t.x && px < t.x + t.w && py >= t.y && py < t.y + t.h)).toBe(true);
  });

  it('a photo smaller than a tile is one tile; a bad spec is refused', () => {
    expect(tileGrid(640, 480, { size: 960, overlap: 100 })).toEqual([{ x: 0, y: 0, w: 640, h: 480 }]);
    expect(() => tileGrid(100, 100, { size: 50, overlap: 50 })).toThrow(/not a tiling/);
  });
});

describe('mergeTileDetections', () => {
  it('moves boxes into the photo frame and keeps one of each object seen by two overlapping tiles', () => {
    const tiles = [{ x: 0, y: 0, w: 600, h: 600 }, { x: 500, y: 0, w: 600, h: 600 }];
    // one object at photo x 520..580 seen by both tiles; another only in tile 1; a different class at the same place
    const merged = mergeTileDetections(tiles, [
      [{ classId: 0, score: 0.9, bbox: [520, 100, 60, 40] }],
      [{ classId: 0, score: 0.8, bbox: [21, 101, 59, 40] }, { classId: 0, score: 0.7, bbox: [300, 300, 50, 50] }, { classId: 1, score: 0.6, bbox: [20, 100, 60, 40] }],
    ]);
    expect(merged).toEqual([
      { classId: 0, score: 0.9, bbox: [520, 100, 60, 40], tile: 0, index: 0 },
      { classId: 0, score: 0.7, bbox: [800, 300, 50, 50], tile: 1, index: 1 },
      { classId: 1, score: 0.6, bbox: [520, 100, 60, 40], tile: 1, index: 2 },
    ]);
    // class-agnostic: the class-1 box at the place of the kept class-0 one goes too
    expect(mergeTileDetections(tiles, [[{ classId: 0, score: 0.9, bbox: [520, 100, 60, 40] }], [{ classId: 1, score: 0.6, bbox: [20, 100, 60, 40] }]], 0.5, { classAgnostic: true }).map((d) => d.classId)).toEqual([0]);
    expect(() => mergeTileDetections(tiles, [[]])).toThrow(/2 tiles but detections for 1/);
  });
});

describe('stitchTileMaps', () => {
  it('takes each pixel from the tile where it is farthest from a cut edge; the seam falls mid-overlap', () => {
    // a 10×3 photo, tiles of 6 overlapping by 2: x 0..5 and 4..9; tile 0 says 1 everywhere, tile 1 says 2
    const tiles = tileGrid(10, 3, { size: 6, overlap: 2 });
    expect(tiles).toEqual([{ x: 0, y: 0, w: 6, h: 3 }, { x: 4, y: 0, w: 6, h: 3 }]);
    const out = stitchTileMaps(tiles, [new Uint8Array(18).fill(1), new Uint8Array(18).fill(2)], 10, 3);
    // photo x 4: 1 from tile 0's cut edge (x 5), 0 from tile 1's (x 4) → tile 0; x 5: 0 vs 1 → tile 1
    expect([...out.subarray(0, 10)]).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect([...out.subarray(20, 30)]).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  });

  it('copies each tile\'s own pixels (a 2×2 grid, values encode the tile-local position)', () => {
    const tiles = tileGrid(7, 7, { size: 4, overlap: 1 });
    expect(tiles.map((t) => [t.x, t.y])).toEqual([[0, 0], [3, 0], [0, 3], [3, 3]]);
    // tile i's map value at local (u, v) is 16·i + 4·v + u
    const maps = tiles.map((t, i) => Uint8Array.from({ length: 16 }, (_, k) => 16 * i + 4 * Math.floor(k / 4) + (k % 4)));
    const out = stitchTileMaps(tiles, maps, 7, 7);
    // the overlap is photo row/column 3 (tile 0's last, tile 1's first): 0 from both cut edges → the first tile
    for (let y = 0; y < 7; y++) for (let x = 0; x < 7; x++) {
      const i = (y >= 4 ? 2 : 0) + (x >= 4 ? 1 : 0);
      const t = tiles[i];
      expect(out[y * 7 + x]).toBe(16 * i + 4 * (y - t.y) + (x - t.x));
    }
    expect(() => stitchTileMaps(tiles, maps.slice(1), 7, 7)).toThrow(/4 tiles but 3 maps/);
  });
});

describe('boxInTile', () => {
  it('cuts a box to a tile and drops it when less than half of it is inside', () => {
    const tile = { x: 100, y: 100, w: 200, h: 200 };
    expect(boxInTile([150, 150, 20, 20], tile)).toEqual([50, 50, 20, 20]);
    expect(boxInTile([280, 150, 40, 20], tile)).toEqual([180, 50, 20, 20]); // exactly half inside
    expect(boxInTile([290, 150, 40, 20], tile)).toBeNull();
    expect(boxInTile([0, 0, 50, 50], tile)).toBeNull();
  });
});
