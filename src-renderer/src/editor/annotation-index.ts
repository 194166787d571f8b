// Hit-testing over one image's annotations: the spatial grid narrows candidates, then exact tests pick
// the topmost shape (last drawn), preferring the smallest when shapes nest so small objects stay clickable.
import type { Annotation } from '@contract/schemas';
import { geometryBounds, pointInRings, rectContains, type Point, type Rect } from './geometry';
import { cropMask, rasterHit } from './mask-raster';
import { SpatialGrid } from './spatial-index';

interface Entry {
  ann: Annotation;
  bounds: Rect;
  order: number;
  mask?: ReturnType<typeof cropMask>;
}

export class AnnotationIndex {
  private grid: SpatialGrid<Entry>;

  constructor(
    width: number,
    height: number,
    annotations: readonly Annotation[],
    private isHidden: (a: Annotation) => boolean = () => false,
  ) {
    this.grid = new SpatialGrid(width, height);
    annotations.forEach((ann, order) => this.grid.insert({ ann, bounds: geometryBounds(ann.geometry), order }, geometryBounds(ann.geometry)));
  }

  private exact(e: Entry, p: Point, tol: number): boolean {
    const g = e.ann.geometry;
    if (!rectContains(e.bounds, p, tol)) return false;
    if (g.kind === 'box') return true;
    if (g.kind === 'polygon') return pointInRings(g.rings, p);
    e.mask ??= cropMask(g.rle);
    return rasterHit(e.mask, p.x, p.y);
  }

  /** tol: slack in image pixels around boxes (thin boxes stay clickable) */
  hit(p: Point, tol = 0): Annotation | null {
    let best: Entry | null = null;
    for (const e of this.grid.at(p)) {
      if (this.isHidden(e.ann) || !this.exact(e, p, tol)) continue;
      const area = e.bounds.w * e.bounds.h, bestArea = best ? best.bounds.w * best.bounds.h : Infinity;
      if (!best || area < bestArea * 0.999 || (Math.abs(area - bestArea) <= bestArea * 0.001 && e.order > best.order)) best = e;
    }
    return best?.ann ?? null;
  }

  within(r: Rect): Annotation[] {
    return this.grid.within(r).map((e) => e.ann);
  }
}
