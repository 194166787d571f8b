// V: click selects (Shift/Ctrl adds), drag on empty canvas rubber-band selects, handles edit the selection.
import { rectFromCorners, rectsIntersect, geometryBounds, type Point } from '../geometry';
import { toScreen } from '../viewport';
import { EditHandles } from './edit-handles';
import type { Tool, ToolHost, ToolPointer } from './tool';

export class SelectTool implements Tool {
  readonly cursor = 'default';
  private band: { from: Point; to: Point; additive: boolean } | null = null;

  constructor(
    private host: ToolHost,
    readonly edit: EditHandles,
  ) {}

  down(p: ToolPointer): boolean {
    if (this.edit.down(p, true)) return true;
    const hit = this.host.hitTest(p.image);
    const additive = p.shift || p.ctrl;
    if (hit) {
      const sel = this.host.selectedIds();
      this.host.select(additive ? (sel.includes(hit.id) ? sel.filter((s) => s !== hit.id) : [...sel, hit.id]) : [hit.id]);
      // Pressing on a shape selects it and lets the same drag move it.
      if (!additive) this.edit.down(p, true);
      this.host.invalidate();
      return true;
    }
    this.band = { from: p.image, to: p.image, additive };
    if (!additive) this.host.select([]);
    return true;
  }

  move(p: ToolPointer): void {
    if (this.edit.dragging) return this.edit.move(p);
    if (this.band) {
      this.band.to = p.image;
      this.host.invalidate();
    }
  }

  up(p: ToolPointer): void {
    if (this.edit.dragging) return this.edit.up(p);
    if (!this.band) return;
    const r = rectFromCorners(this.band.from, p.image);
    if (r.w > 0 || r.h > 0) {
      const inside = this.host.annotations().filter((a) => {
        const b = geometryBounds(a.geometry);
        return rectsIntersect(r, b) && b.x >= r.x && b.y >= r.y && b.x + b.w <= r.x + r.w && b.y + b.h <= r.y + r.h;
      });
      const ids = inside.map((a) => a.id);
      this.host.select(this.band.additive ? [...this.host.selectedIds(), ...ids] : ids);
    }
    this.band = null;
    this.host.invalidate();
  }

  action(name: string): boolean {
    if (name === 'edit.deleteVertex') return this.edit.deleteActiveVertex();
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D): void {
    if (!this.band) return;
    const vp = this.host.viewport();
    const a = toScreen(vp, this.band.from), b = toScreen(vp, this.band.to);
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = '#e6e6e6';
    ctx.lineWidth = 1;
    ctx.strokeRect(Math.min(a.x, b.x) + 0.5, Math.min(a.y, b.y) + 0.5, Math.abs(b.x - a.x), Math.abs(b.y - a.y));
    ctx.setLineDash([]);
  }

  cancel(): void {
    this.band = null;
    this.edit.cancel();
  }
}
