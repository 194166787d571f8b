// Direct manipulation of the selected shape, shared by the select, box and polygon tools: resize a box by
// its handles, move a box, polygon or mask by dragging it, drag a polygon vertex, insert one by dragging an
// edge midpoint, delete the active vertex with Backspace.
import type { Annotation, Geometry, PolygonGeometry } from '@contract/schemas';
import { BOX_HANDLES, handlePoint, resizeBox, translate, type BoxHandle, type Point } from '../geometry';
import { area } from '@core/geometry/rle';
import { translateRle } from '../mask';
import { deleteVertex, insertVertex, moveVertex, nearestVertex, vertex, type VertexRef } from '../polygon-edit';
import { toScreen } from '../viewport';
import { HANDLE_PX, imagePx, updated, type ToolHost, type ToolPointer } from './tool';

type Drag =
  | { kind: 'resize'; ann: Annotation; handle: BoxHandle }
  | { kind: 'vertex'; ann: Annotation; v: VertexRef; geometry: PolygonGeometry }
  | { kind: 'move'; ann: Annotation; from: Point; last?: { dx: number; dy: number; g: Geometry } };

export class EditHandles {
  private drag: Drag | null = null;
  private moved = false;
  /** the vertex Backspace deletes */
  activeVertex: { annId: string; v: VertexRef } | null = null;

  constructor(private host: ToolHost) {}

  private single(): Annotation | null {
    const ids = this.host.selectedIds();
    if (ids.length !== 1) return null;
    return this.host.annotations().find((a) => a.id === ids[0]) ?? null;
  }

  get dragging(): boolean {
    return this.drag !== null;
  }

  /** Starts a drag if p is on a handle/vertex/edge midpoint of the selected shape, or inside it (move). */
  down(p: ToolPointer, allowMove: boolean): boolean {
    const ann = this.single();
    if (!ann) return false;
    const tol = imagePx(this.host, HANDLE_PX + 2);
    const g = ann.geometry;
    if (g.kind === 'box') {
      const r = { x: g.x, y: g.y, w: g.w, h: g.h };
      for (const h of BOX_HANDLES) {
        const hp = handlePoint(r, h);
        if (Math.abs(hp.x - p.image.x) <= tol && Math.abs(hp.y - p.image.y) <= tol) return this.begin({ kind: 'resize', ann, handle: h });
      }
    } else if (g.kind === 'polygon') {
      const v = nearestVertex(g, p.image, tol);
      if (v) {
        this.activeVertex = { annId: ann.id, v };
        return this.begin({ kind: 'vertex', ann, v, geometry: g });
      }
      const mid = this.midpointAt(g, p.image, tol);
      if (mid) {
        const ins = insertVertex(g, mid.ring, mid.index, p.image);
        this.activeVertex = { annId: ann.id, v: ins.vertex };
        this.host.setPreview(ann.id, ins.geometry);
        this.moved = true; // inserting is an edit even without further movement
        this.drag = { kind: 'vertex', ann, v: ins.vertex, geometry: ins.geometry };
        return true;
      }
    }
    if (allowMove && this.host.hitTest(p.image)?.id === ann.id) return this.begin({ kind: 'move', ann, from: p.image });
    return false;
  }

  private begin(d: Drag): boolean {
    this.drag = d;
    this.moved = false;
    return true;
  }

  private midpointAt(g: PolygonGeometry, p: Point, tol: number): VertexRef | null {
    for (let ring = 0; ring < g.rings.length; ring++) {
      const r = g.rings[ring], n = r.length / 2;
      for (let i = 0; i < n; i++) {
        const j = (i + 1) % n;
        const mx = (r[2 * i] + r[2 * j]) / 2, my = (r[2 * i + 1] + r[2 * j + 1]) / 2;
        if (Math.abs(mx - p.x) <= tol && Math.abs(my - p.y) <= tol) return { ring, index: i };
      }
    }
    return null;
  }

  private clampPoint(p: Point): Point {
    return { x: Math.max(0, Math.min(this.host.width, p.x)), y: Math.max(0, Math.min(this.host.height, p.y)) };
  }

  private geometryFor(d: Drag, p: Point): Geometry {
    const q = this.clampPoint(p);
    if (d.kind === 'resize') {
      const g = d.ann.geometry as Extract<Geometry, { kind: 'box' }>;
      return { kind: 'box', ...resizeBox({ x: g.x, y: g.y, w: g.w, h: g.h }, d.handle, q) };
    }
    if (d.kind === 'vertex') return moveVertex(d.geometry, d.v, q);
    const g = d.ann.geometry;
    if (g.kind !== 'mask') return translate(g, p.x - d.from.x, p.y - d.from.y);
    // Masks move by whole pixels; the same offset is not re-encoded on every pointer move.
    const dx = Math.round(p.x - d.from.x), dy = Math.round(p.y - d.from.y);
    if (d.last?.dx !== dx || d.last.dy !== dy) d.last = { dx, dy, g: dx || dy ? { kind: 'mask', rle: translateRle(g.rle, dx, dy) } : g };
    return d.last.g;
  }

  move(p: ToolPointer): void {
    if (!this.drag) return;
    this.moved = true;
    this.host.setPreview(this.drag.ann.id, this.geometryFor(this.drag, p.image));
    this.host.invalidate();
  }

  up(p: ToolPointer): void {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    this.host.setPreview(d.ann.id, null);
    if (!this.moved) return;
    const g = this.geometryFor(d, p.image);
    if (g.kind === 'box' && (g.w < 1 || g.h < 1)) return this.host.notify('A box needs some width and height: resize undone');
    if (g === d.ann.geometry) return; // a mask dragged by less than a pixel
    if (g.kind === 'mask' && area(g.rle) === 0) return this.host.notify('The mask would leave the image: move undone');
    const label = d.kind === 'resize' ? 'resize box' : d.kind === 'vertex' ? 'edit vertex' : 'move shape';
    this.host.commit({ created: [], deleted: [], updated: [updated(d.ann, g)], label });
  }

  /** Backspace: delete the active vertex of the selected polygon. */
  deleteActiveVertex(): boolean {
    const ann = this.single();
    if (!ann || ann.geometry.kind !== 'polygon' || this.activeVertex?.annId !== ann.id) return false;
    const g = deleteVertex(ann.geometry, this.activeVertex.v);
    if (!g) {
      this.host.notify('A polygon needs at least 3 points: press Delete to remove the whole shape');
      return true;
    }
    this.activeVertex = null;
    this.host.commit({ created: [], deleted: [], updated: [updated(ann, g)], label: 'delete vertex' });
    return true;
  }

  cancel(): void {
    if (this.drag) this.host.setPreview(this.drag.ann.id, null);
    this.drag = null;
  }

  /** Handles of the selected shape, drawn over the scene. */
  draw(ctx: CanvasRenderingContext2D, geometryOf: (a: Annotation) => Geometry): void {
    const ann = this.single();
    if (!ann) return;
    const g = geometryOf(ann);
    const vp = this.host.viewport();
    const box = (p: Point, fill: string, size = HANDLE_PX) => {
      const s = toScreen(vp, p);
      ctx.fillStyle = fill;
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 1;
      ctx.fillRect(Math.round(s.x - size / 2), Math.round(s.y - size / 2), size, size);
      ctx.strokeRect(Math.round(s.x - size / 2) + 0.5, Math.round(s.y - size / 2) + 0.5, size - 1, size - 1);
    };
    if (g.kind === 'box') for (const h of BOX_HANDLES) box(handlePoint({ x: g.x, y: g.y, w: g.w, h: g.h }, h), '#fff');
    if (g.kind === 'polygon') {
      g.rings.forEach((r, ring) => {
        const n = r.length / 2;
        for (let i = 0; i < n; i++) {
          const j = (i + 1) % n;
          box({ x: (r[2 * i] + r[2 * j]) / 2, y: (r[2 * i + 1] + r[2 * j + 1]) / 2 }, 'rgba(255,255,255,0.45)', 5);
        }
        for (let i = 0; i < n; i++) {
          const active = this.activeVertex?.annId === ann.id && this.activeVertex.v.ring === ring && this.activeVertex.v.index === i;
          box(vertex(g, { ring, index: i }), active ? '#ffd43b' : '#fff');
        }
      });
    }
  }
}
