// Tiling a large photo and merging the tiles' detections back into one set in the photo's pixels.
import { describe, expect, it } from 'vitest';
import { boxInTile, mergeTileDetections, tileCount, tileGrid } from '../../../src-main/core/training/tiles';

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
      { classId: 0, score: 0.9, bbox: [520, 100, 60, 40], tile: 0 },
      { classId: 0, score: 0.7, bbox: [800, 300, 50, 50], tile: 1 },
      { classId: 1, score: 0.6, bbox: [520, 100, 60, 40], tile: 1 },
    ]);
    expect(() => mergeTileDetections(tiles, [[]])).toThrow(/2 tiles but detections for 1/);
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
