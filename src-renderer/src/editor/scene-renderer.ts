// Draws one frame: the image level, every visible annotation, labels of selected shapes, then tool overlays.
import type { Annotation, Geometry } from '@contract/schemas';
import { geometryBounds } from './geometry';
import type { LoadedLevel } from './image-levels';
import type { MaskRasterCache } from './mask-raster';
import type { Viewport } from './viewport';

export interface SceneInput {
  width: number;
  height: number;
  viewW: number;
  viewH: number;
  vp: Viewport;
  level: LoadedLevel | null;
  annotations: readonly Annotation[];
  geometryOf: (a: Annotation) => Geometry;
  selected: ReadonlySet<string>;
  hidden: (a: Annotation) => boolean;
  colorOf: (classId: number) => string;
  nameOf: (classId: number) => string;
  opacity: number;
  showLabels: boolean;
  masks: MaskRasterCache;
}

function withAlpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

export function drawScene(ctx: CanvasRenderingContext2D, s: SceneInput): void {
  const { vp } = s;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#15171b';
  ctx.fillRect(0, 0, s.viewW, s.viewH);

  const dw = s.width * vp.scale, dh = s.height * vp.scale;
  if (s.level) {
    // Smooth when shrinking; crisp pixels when zoomed in past 2:1 (labelers want to see pixel edges).
    ctx.imageSmoothingEnabled = vp.scale < 2;
    ctx.imageSmoothingQuality = 'medium';
    ctx.drawImage(s.level.bitmap, vp.tx, vp.ty, dw, dh);
  } else {
    ctx.fillStyle = '#22252b';
    ctx.fillRect(vp.tx, vp.ty, dw, dh);
  }

  const seen = new Set<string>();
  // Visible region in image coords: shapes entirely outside are skipped (2,000 shapes at high zoom).
  const vx0 = -vp.tx / vp.scale, vy0 = -vp.ty / vp.scale, vx1 = vx0 + s.viewW / vp.scale, vy1 = vy0 + s.viewH / vp.scale;
  const fillA = s.opacity, strokeA = Math.min(1, 0.55 + s.opacity);

  for (const a of s.annotations) {
    if (s.hidden(a)) continue;
    const g = s.geometryOf(a);
    const color = s.colorOf(a.classId);
    const sel = s.selected.has(a.id);
    if (g.kind === 'mask') {
      seen.add(a.id);
      const r = s.masks.get(a.id, g.rle, color);
      if (!r.canvas || r.x > vx1 || r.y > vy1 || r.x + r.w < vx0 || r.y + r.h < vy0) continue;
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = Math.min(1, fillA + (sel ? 0.25 : 0.1));
      ctx.drawImage(r.canvas, vp.tx + r.x * vp.scale, vp.ty + r.y * vp.scale, r.w * vp.scale, r.h * vp.scale);
      ctx.globalAlpha = 1;
      if (sel) {
        ctx.strokeStyle = '#ffffff';
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1;
        ctx.strokeRect(vp.tx + r.x * vp.scale - 0.5, vp.ty + r.y * vp.scale - 0.5, r.w * vp.scale + 1, r.h * vp.scale + 1);
        ctx.setLineDash([]);
      }
      continue;
    }
    ctx.beginPath();
    if (g.kind === 'box') {
      if (g.x > vx1 || g.y > vy1 || g.x + g.w < vx0 || g.y + g.h < vy0) continue;
      ctx.rect(vp.tx + g.x * vp.scale, vp.ty + g.y * vp.scale, g.w * vp.scale, g.h * vp.scale);
    } else {
      for (const ring of g.rings) {
        for (let i = 0; i < ring.length; i += 2) {
          const x = vp.tx + ring[i] * vp.scale, y = vp.ty + ring[i + 1] * vp.scale;
          if (i) ctx.lineTo(x, y);
          else ctx.moveTo(x, y);
        }
        ctx.closePath();
      }
    }
    ctx.fillStyle = withAlpha(color, sel ? Math.min(1, fillA + 0.15) : fillA);
    ctx.fill();
    ctx.strokeStyle = sel ? '#ffffff' : withAlpha(color, strokeA);
    ctx.lineWidth = sel ? 2 : 1.5;
    ctx.stroke();
  }
  s.masks.retain(seen);

  if (s.showLabels) {
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const a of s.annotations) {
      if (!s.selected.has(a.id) || s.hidden(a)) continue;
      const b = geometryBounds(s.geometryOf(a));
      const text = s.nameOf(a.classId);
      const x = vp.tx + b.x * vp.scale, y = vp.ty + b.y * vp.scale - 18;
      const w = ctx.measureText(text).width + 10;
      ctx.fillStyle = s.colorOf(a.classId);
      ctx.fillRect(x, Math.max(0, y), w, 16);
      ctx.fillStyle = '#0d0e10';
      ctx.fillText(text, x + 5, Math.max(0, y) + 8);
    }
  }
}
