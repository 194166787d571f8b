// B / E: paint into (or erase from) a per-instance mask. A stroke paints into the selected mask — or, with
// the brush and nothing suitable selected, a new mask of the active class. Each stroke is one changeset.
import type { Annotation } from '@contract/schemas';
import { newId } from '../changeset';
import type { Point } from '../geometry';
import { countOn, emptyMask, maskFromRle, maskToRle, paintStroke } from '../mask';
import { toScreen } from '../viewport';
import { newAnnotation, updated, type Tool, type ToolHost, type ToolPointer } from './tool';

export class BrushTool implements Tool {
  readonly cursor = 'none';
  private stroke: Point[] = [];
  private target: Annotation | null = null;
  private hover: Point | null = null;

  constructor(
    private host: ToolHost,
    readonly erase: boolean,
  ) {}

  private selectedMask(): Annotation | null {
    const ids = this.host.selectedIds();
    if (ids.length !== 1) return null;
    const a = this.host.annotations().find((x) => x.id === ids[0]);
    return a?.geometry.kind === 'mask' ? a : null;
  }

  down(p: ToolPointer): boolean {
    this.target = this.selectedMask();
    if (this.erase && !this.target) {
      const hit = this.host.hitTest(p.image);
      this.target = hit?.geometry.kind === 'mask' ? hit : null;
      if (!this.target) {
        this.host.notify('Eraser: select a mask first (or start on one)');
        return true;
      }
      this.host.select([this.target.id]);
    }
    this.stroke = [p.image];
    this.host.invalidate();
    return true;
  }

  move(p: ToolPointer): void {
    this.hover = p.image;
    if (this.stroke.length) this.stroke.push(p.image);
    this.host.invalidate();
  }

  up(): void {
    if (!this.stroke.length) return;
    const stroke = this.stroke;
    this.stroke = [];
    const { width: w, height: h } = this.host;
    const r = this.host.brushRadius();
    const target = this.target;
    this.target = null;
    if (this.erase && !target) return;
    const mask = target && target.geometry.kind === 'mask' ? maskFromRle(target.geometry.rle) : emptyMask(w, h);
    paintStroke(mask, stroke, r, this.erase ? 0 : 1);
    if (target) {
      if (countOn(mask) === 0) {
        this.host.commit({ created: [], updated: [], deleted: [target], label: 'erase mask' });
        return;
      }
      this.host.commit({ created: [], deleted: [], updated: [updated(target, { kind: 'mask', rle: maskToRle(mask) })], label: this.erase ? 'erase' : 'paint' });
      return;
    }
    const classId = this.host.classIdForNew();
    if (classId === null || countOn(mask) === 0) return this.host.invalidate();
    const ann = newAnnotation(newId(), this.host.imageId, classId, { kind: 'mask', rle: maskToRle(mask) });
    this.host.commit({ created: [ann], updated: [], deleted: [], label: 'paint mask' });
    this.host.select([ann.id]);
  }

  action(name: string): boolean {
    if (name === 'edit.cancel' && this.stroke.length) {
      this.stroke = [];
      this.host.invalidate();
      return true;
    }
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D): void {
    const vp = this.host.viewport();
    const r = this.host.brushRadius() * vp.scale;
    if (this.stroke.length) {
      const target = this.target ?? this.selectedMask();
      ctx.strokeStyle = this.erase ? 'rgba(20,20,20,0.75)' : target ? this.host.colorOf(target.classId) : 'rgba(255,255,255,0.8)';
      ctx.globalAlpha = 0.6;
      ctx.lineWidth = 2 * r;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.beginPath();
      this.stroke.forEach((p, i) => {
        const s = toScreen(vp, p);
        if (i) ctx.lineTo(s.x, s.y);
        else ctx.moveTo(s.x, s.y);
      });
      if (this.stroke.length === 1) {
        const s = toScreen(vp, this.stroke[0]);
        ctx.lineTo(s.x + 0.01, s.y);
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    if (this.hover) {
      const s = toScreen(vp, this.hover);
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(s.x, s.y, Math.max(2, r), 0, Math.PI * 2);
      ctx.stroke();
      ctx.strokeStyle = 'rgba(0,0,0,0.6)';
      ctx.beginPath();
      ctx.arc(s.x, s.y, Math.max(2, r) + 1, 0, Math.PI * 2);
      ctx.stroke();
    }
  }

  cancel(): void {
    this.stroke = [];
    this.target = null;
  }
}
