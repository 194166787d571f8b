// A uniform grid over the image for hit-testing thousands of shapes: a click looks at one cell's entries
// instead of every annotation. Rebuilt when the image's annotations change (O(n), cheap).
import type { Point, Rect } from './geometry';

export class SpatialGrid<T> {
  private cells = new Map<number, T[]>();
  private cols: number;
  private rows: number;
  readonly cell: number;

  constructor(width: number, height: number, cellsAcross = 32) {
    this.cell = Math.max(8, Math.ceil(Math.max(width, height) / cellsAcross));
    this.cols = Math.max(1, Math.ceil(width / this.cell));
    this.rows = Math.max(1, Math.ceil(height / this.cell));
  }

  private span(r: Rect): [number, number, number, number] {
    const c = (v: number, max: number) => Math.max(0, Math.min(max - 1, Math.floor(v / this.cell)));
    return [c(r.x, this.cols), c(r.y, this.rows), c(r.x + r.w, this.cols), c(r.y + r.h, this.rows)];
  }

  insert(item: T, bounds: Rect): void {
    const [c0, r0, c1, r1] = this.span(bounds);
    for (let r = r0; r <= r1; r++)
      for (let c = c0; c <= c1; c++) {
        const k = r * this.cols + c;
        const list = this.cells.get(k);
        if (list) list.push(item);
        else this.cells.set(k, [item]);
      }
  }

  /** Items whose bounds' cells contain p (callers do the exact test). */
  at(p: Point): T[] {
    const [c, r] = this.span({ x: p.x, y: p.y, w: 0, h: 0 });
    return this.cells.get(r * this.cols + c) ?? [];
  }

  /** Distinct items whose cells touch the rectangle. */
  within(rect: Rect): T[] {
    const [c0, r0, c1, r1] = this.span(rect);
    const out = new Set<T>();
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) for (const it of this.cells.get(r * this.cols + c) ?? []) out.add(it);
    return [...out];
  }
}
