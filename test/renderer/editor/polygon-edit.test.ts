import type { PolygonGeometry } from '../../../src-main/contract/schemas';
import { describe, expect, it } from 'vitest';
import { deleteVertex, insertVertex, moveVertex, nearestEdge, nearestVertex, ringFromPoints } from '../../../src-renderer/src/editor/polygon-edit';

const tri: PolygonGeometry = { kind: 'polygon', rings: [[0, 0, 10, 0, 10, 10]] };
const quad: PolygonGeometry = { kind: 'polygon', rings: [[0, 0, 10, 0, 10, 10, 0, 10]] };

describe('polygon editing', () => {
  it('finds the nearest vertex within a tolerance', () => {
    expect(nearestVertex(quad, { x: 9, y: 9.5 }, 2)).toEqual({ ring: 0, index: 2 });
    expect(nearestVertex(quad, { x: 5, y: 5 }, 2)).toBeNull();
  });

  it('finds the nearest edge and the projected point (including the closing edge)', () => {
    const e = nearestEdge(quad, { x: 5, y: 1 }, 2)!;
    expect(e.index).toBe(0);
    expect(e.point).toEqual({ x: 5, y: 0 });
    expect(nearestEdge(quad, { x: 0.5, y: 5 }, 2)!.index).toBe(3);
  });

  it('inserts a vertex on an edge and returns its reference', () => {
    const { geometry, vertex } = insertVertex(quad, 0, 0, { x: 5, y: 0 });
    expect(geometry.rings[0]).toEqual([0, 0, 5, 0, 10, 0, 10, 10, 0, 10]);
    expect(vertex).toEqual({ ring: 0, index: 1 });
    expect(quad.rings[0]).toHaveLength(8); // input untouched
  });

  it('moves and deletes vertices, refusing to go below 3 points', () => {
    expect(moveVertex(quad, { ring: 0, index: 1 }, { x: 12, y: -1 }).rings[0]).toEqual([0, 0, 12, -1, 10, 10, 0, 10]);
    expect(deleteVertex(quad, { ring: 0, index: 3 })!.rings[0]).toEqual([0, 0, 10, 0, 10, 10]);
    expect(deleteVertex(tri, { ring: 0, index: 0 })).toBeNull();
  });

  it('builds a ring only from 3 or more points', () => {
    expect(ringFromPoints([{ x: 0, y: 0 }, { x: 1, y: 1 }])).toBeNull();
    expect(ringFromPoints([{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }])).toEqual([0, 0, 1, 0, 1, 1]);
  });
});
