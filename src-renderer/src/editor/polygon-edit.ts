// Vertex editing on polygon rings (flat [x1,y1,x2,y2,…] lists). Every function returns new arrays.
import type { PolygonGeometry } from '@contract/schemas';
import { distToSegment, type Point } from './geometry';

export interface VertexRef {
  ring: number;
  index: number;
}

export function vertex(g: PolygonGeometry, v: VertexRef): Point {
  const r = g.rings[v.ring];
  return { x: r[2 * v.index], y: r[2 * v.index + 1] };
}

export function nearestVertex(g: PolygonGeometry, p: Point, maxDist: number): VertexRef | null {
  let best: VertexRef | null = null, bestD = maxDist;
  g.rings.forEach((r, ring) => {
    for (let i = 0; i < r.length / 2; i++) {
      const d = Math.hypot(r[2 * i] - p.x, r[2 * i + 1] - p.y);
      if (d <= bestD) {
        bestD = d;
        best = { ring, index: i };
      }
    }
  });
  return best;
}

/** The edge nearest to p (edge i joins vertex i and i+1, wrapping), if within maxDist. */
export function nearestEdge(g: PolygonGeometry, p: Point, maxDist: number): (VertexRef & { point: Point }) | null {
  let best: (VertexRef & { point: Point }) | null = null, bestD = maxDist;
  g.rings.forEach((r, ring) => {
    const n = r.length / 2;
    for (let i = 0; i < n; i++) {
      const a = { x: r[2 * i], y: r[2 * i + 1] }, j = (i + 1) % n, b = { x: r[2 * j], y: r[2 * j + 1] };
      const { dist, t } = distToSegment(p, a, b);
      if (dist <= bestD) {
        bestD = dist;
        best = { ring, index: i, point: { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) } };
      }
    }
  });
  return best;
}

export function moveVertex(g: PolygonGeometry, v: VertexRef, p: Point): PolygonGeometry {
  return {
    ...g,
    rings: g.rings.map((r, ri) => (ri !== v.ring ? r : r.map((c, ci) => (ci === 2 * v.index ? p.x : ci === 2 * v.index + 1 ? p.y : c)))),
  };
}

/** Inserts p after vertex `after` (i.e. on edge after→after+1); returns the geometry and the new vertex. */
export function insertVertex(g: PolygonGeometry, ring: number, after: number, p: Point): { geometry: PolygonGeometry; vertex: VertexRef } {
  const rings = g.rings.map((r, ri) => (ri !== ring ? r : [...r.slice(0, 2 * after + 2), p.x, p.y, ...r.slice(2 * after + 2)]));
  return { geometry: { ...g, rings }, vertex: { ring, index: after + 1 } };
}

/** Removes a vertex; null if the ring would drop below 3 points (the caller deletes the shape instead). */
export function deleteVertex(g: PolygonGeometry, v: VertexRef): PolygonGeometry | null {
  const r = g.rings[v.ring];
  if (r.length / 2 <= 3) return null;
  return { ...g, rings: g.rings.map((ring, ri) => (ri !== v.ring ? ring : [...ring.slice(0, 2 * v.index), ...ring.slice(2 * v.index + 2)])) };
}

/** Points collected by the polygon tool as a ring, or null while there are fewer than 3. */
export function ringFromPoints(points: Point[]): number[] | null {
  if (points.length < 3) return null;
  return points.flatMap((p) => [p.x, p.y]);
}
