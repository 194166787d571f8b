// R: draw a box by dragging, or by two clicks (click, move, click). Handles of the selected box still work.
import { newId } from '../changeset';
import { clampRect, rectFromCorners, type Point } from '../geometry';
import { toScreen } from '../viewport';
import type { EditHandles } from './edit-handles';
import { newAnnotation, type Tool, type ToolHost, type ToolPointer } from './tool';

/** Below this many screen pixels a press-release is a click, not a drag. */
const CLICK_SLOP = 4;

export class BoxTool implements Tool {
  readonly cursor = 'crosshair';
  private start: Point | null = null;
  private startScreen: Point | null = null;
  private current: Point | null = null;
  /** after a click without drag, the next click completes the box */
  private clickMode = false;

  constructor(
    private host: ToolHost,
    private edit: EditHandles,
  ) {}

  down(p: ToolPointer): boolean {
    if (this.clickMode && this.start) {
      this.finish(p.image);
      return true;
    }
    if (this.edit.down(p, false)) return true;
    this.start = this.clamp(p.image);
    this.startScreen = p.screen;
    this.current = this.start;
    return true;
  }

  move(p: ToolPointer): void {
    if (this.edit.dragging) return this.edit.move(p);
    if (!this.start) return;
    this.current = this.clamp(p.image);
    this.host.invalidate();
  }

  up(p: ToolPointer): void {
    if (this.edit.dragging) return this.edit.up(p);
    if (!this.start || !this.startScreen || this.clickMode) return;
    const dragged = Math.hypot(p.screen.x - this.startScreen.x, p.screen.y - this.startScreen.y) > CLICK_SLOP;
    if (dragged) this.finish(p.image);
    else this.clickMode = true; // first click of click-click drawing
  }

  private clamp(p: Point): Point {
    return { x: Math.max(0, Math.min(this.host.width, p.x)), y: Math.max(0, Math.min(this.host.height, p.y)) };
  }

  private finish(end: Point): void {
    const start = this.start!;
    this.reset();
    const r = clampRect(rectFromCorners(start, this.clamp(end)), this.host.width, this.host.height);
    if (r.w < 1 || r.h < 1) return this.host.invalidate();
    const classId = this.host.classIdForNew();
    if (classId === null) return this.host.invalidate();
    const ann = newAnnotation(newId(), this.host.imageId, classId, { kind: 'box', ...r });
    this.host.commit({ created: [ann], updated: [], deleted: [], label: 'draw box' });
    this.host.select([ann.id]);
  }

  private reset(): void {
    this.start = this.startScreen = this.current = null;
    this.clickMode = false;
  }

  action(name: string): boolean {
    if (name === 'edit.cancel' && this.start) {
      this.reset();
      this.host.invalidate();
      return true;
    }
    if (name === 'edit.deleteVertex') return this.edit.deleteActiveVertex();
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D): void {
    if (!this.start || !this.current) return;
    const vp = this.host.viewport();
    const a = toScreen(vp, this.start), b = toScreen(vp, this.current);
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.5;
    ctx.setLineDash([5, 4]);
    ctx.strokeRect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
    ctx.setLineDash([]);
  }

  cancel(): void {
    this.reset();
    this.edit.cancel();
  }
}
