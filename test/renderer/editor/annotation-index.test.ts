import type { Annotation, Geometry } from '../../../src-main/contract/schemas';
import { describe, expect, it } from 'vitest';
import { AnnotationIndex } from '../../../src-renderer/src/editor/annotation-index';
import { emptyMask, maskToRle, paintDisc } from '../../../src-renderer/src/editor/mask';
import { SpatialGrid } from '../../../src-renderer/src/editor/spatial-index';

const ann = (id: string, geometry: Geometry): Annotation => ({ id, imageId: 1, classId: 1, geometry, source: 'human', score: null, modelVersion: null, createdAt: 0, updatedAt: 0 });

describe('spatial grid', () => {
  it('returns only items whose cells contain the point', () => {
    const g = new SpatialGrid<string>(1000, 1000, 10);
    g.insert('a', { x: 0, y: 0, w: 50, h: 50 });
    g.insert('b', { x: 500, y: 500, w: 300, h: 300 });
    expect(g.at({ x: 10, y: 10 })).toEqual(['a']);
    expect(g.at({ x: 700, y: 700 })).toEqual(['b']);
    expect(g.at({ x: 300, y: 300 })).toEqual([]);
    expect(g.within({ x: 0, y: 0, w: 1000, h: 1000 }).sort()).toEqual(['a', 'b']);
  });
});

describe('annotation hit-testing', () => {
  const m = emptyMask(200, 200);
  paintDisc(m, 150, 150, 10, 1);
  const list = [
    ann('big', { kind: 'box', x: 0, y: 0, w: 100, h: 100 }),
    ann('small', { kind: 'box', x: 40, y: 40, w: 10, h: 10 }),
    ann('tri', { kind: 'polygon', rings: [[100, 0, 200, 0, 200, 100]] }),
    ann('mask', { kind: 'mask', rle: maskToRle(m) }),
  ];

  it('prefers the smallest shape under the point so nested small objects stay clickable', () => {
    const idx = new AnnotationIndex(200, 200, list);
    expect(idx.hit({ x: 45, y: 45 })?.id).toBe('small');
    expect(idx.hit({ x: 80, y: 80 })?.id).toBe('big');
  });

  it('is exact for polygons and masks', () => {
    const idx = new AnnotationIndex(200, 200, list);
    expect(idx.hit({ x: 190, y: 10 })?.id).toBe('tri');
    expect(idx.hit({ x: 110, y: 90 })).toBeNull(); // inside the triangle's box, outside the triangle
    expect(idx.hit({ x: 150, y: 150 })?.id).toBe('mask');
    expect(idx.hit({ x: 141, y: 141 })).toBeNull(); // mask box corner
  });

  it('ignores hidden shapes', () => {
    const idx = new AnnotationIndex(200, 200, list, (a) => a.id === 'small');
    expect(idx.hit({ x: 45, y: 45 })?.id).toBe('big');
  });
});
