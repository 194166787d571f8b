// P: click to add points; click the first point (or press Enter) to close; Backspace removes the last
// point while drawing (or the active vertex of the selected polygon); Esc cancels.
import { newId } from '../changeset';
import type { Point } from '../geometry';
import { ringFromPoints } from '../polygon-edit';
import { toScreen } from '../viewport';
import type { EditHandles } from './edit-handles';
import { HANDLE_PX, imagePx, newAnnotation, type Tool, type ToolHost, type ToolPointer } from './tool';

export class PolygonTool implements Tool {
  readonly cursor = 'crosshair';
  private points: Point[] = [];
  private hover: Point | null = null;

  constructor(
    private host: ToolHost,
    private edit: EditHandles,
  ) {}

  get drawing(): boolean {
    return this.points.length > 0;
  }

  private clamp(p: Point): Point {
    return { x: Math.max(0, Math.min(this.host.width, p.x)), y: Math.max(0, Math.min(this.host.height, p.y)) };
  }

  private nearFirst(p: Point): boolean {
    const f = this.points[0];
    return !!f && this.points.length >= 3 && Math.hypot(f.x - p.x, f.y - p.y) <= imagePx(this.host, HANDLE_PX + 3);
  }

  down(p: ToolPointer): boolean {
    if (!this.drawing && this.edit.down(p, false)) return true;
    if (this.nearFirst(p.image)) {
      this.finish();
      return true;
    }
    this.points.push(this.clamp(p.image));
    this.host.invalidate();
    return true;
  }

  move(p: ToolPointer): void {
    if (this.edit.dragging) return this.edit.move(p);
    this.hover = this.clamp(p.image);
    if (this.drawing) this.host.invalidate();
  }

  up(p: ToolPointer): void {
    if (this.edit.dragging) this.edit.up(p);
  }

  finish(): void {
    const ring = ringFromPoints(this.points);
    if (!ring) {
      this.host.notify('A polygon needs at least 3 points');
      return;
    }
    this.points = [];
    const classId = this.host.classIdForNew();
    if (classId === null) return this.host.invalidate();
    const ann = newAnnotation(newId(), this.host.imageId, classId, { kind: 'polygon', rings: [ring] });
    this.host.commit({ created: [ann], updated: [], deleted: [], label: 'draw polygon' });
    this.host.select([ann.id]);
  }

  action(name: string): boolean {
    if (name === 'edit.finish' && this.drawing) {
      this.finish();
      return true;
    }
    if (name === 'edit.deleteVertex') {
      if (this.drawing) {
        this.points.pop();
        this.host.invalidate();
        return true;
      }
      return this.edit.deleteActiveVertex();
    }
    if (name === 'edit.cancel' && this.drawing) {
      this.points = [];
      this.host.invalidate();
      return true;
    }
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D): void {
    if (!this.drawing) return;
    const vp = this.host.viewport();
    const pts = this.points.map((p) => toScreen(vp, p));
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    if (this.hover) {
      const h = toScreen(vp, this.hover);
      ctx.setLineDash([5, 4]);
      ctx.lineTo(h.x, h.y);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    pts.forEach((p, i) => {
      const closing = i === 0 && this.hover && this.nearFirst(this.hover);
      ctx.fillStyle = closing ? '#ffd43b' : '#ffffff';
      const s = i === 0 ? HANDLE_PX + 2 : HANDLE_PX;
      ctx.fillRect(p.x - s / 2, p.y - s / 2, s, s);
    });
  }

  cancel(): void {
    this.points = [];
    this.hover = null;
    this.edit.cancel();
  }
}
