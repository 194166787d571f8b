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
  /** 'low' while the view moves: Chromium's software 'medium' downscale costs ~3× more per frame */
  quality: ImageSmoothingQuality;
}

function withAlpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

function tracePath(path: CanvasPath, g: Geometry, vp: Viewport): void {
  if (g.kind === 'box') {
    path.rect(vp.tx + g.x * vp.scale, vp.ty + g.y * vp.scale, g.w * vp.scale, g.h * vp.scale);
    return;
  }
  if (g.kind !== 'polygon') return;
  for (const ring of g.rings) {
    // Rings of one polygon are a union (as pycocotools rasterises them): under the nonzero fill rule that
    // needs every ring to turn the same way, or an overlap would cancel out and show as a hole.
    const n = ring.length / 2;
    let area2 = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) area2 += ring[2 * j] * ring[2 * i + 1] - ring[2 * i] * ring[2 * j + 1];
    const at = (k: number) => (area2 >= 0 ? k : n - 1 - k);
    path.moveTo(vp.tx + ring[2 * at(0)] * vp.scale, vp.ty + ring[2 * at(0) + 1] * vp.scale);
    for (let k = 1; k < n; k++) path.lineTo(vp.tx + ring[2 * at(k)] * vp.scale, vp.ty + ring[2 * at(k) + 1] * vp.scale);
    path.closePath();
  }
}

export const BACKGROUND = '#15171b';

/** The image level (only its visible part); the caller has filled the background. */
export function drawBackdrop(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, s: SceneInput): void {
  const { vp } = s;

  // Visible region in image coords: only that part of the level is drawn, and shapes outside are skipped.
  const vx0 = -vp.tx / vp.scale, vy0 = -vp.ty / vp.scale, vx1 = vx0 + s.viewW / vp.scale, vy1 = vy0 + s.viewH / vp.scale;
  const ix0 = Math.max(0, vx0), iy0 = Math.max(0, vy0), ix1 = Math.min(s.width, vx1), iy1 = Math.min(s.height, vy1);
  if (ix1 > ix0 && iy1 > iy0) {
    const dx = vp.tx + ix0 * vp.scale, dy = vp.ty + iy0 * vp.scale, dw = (ix1 - ix0) * vp.scale, dh = (iy1 - iy0) * vp.scale;
    if (s.level) {
      const bmp = s.level.bitmap;
      const bw = 'naturalWidth' in bmp ? bmp.naturalWidth : bmp.width, bh = 'naturalHeight' in bmp ? bmp.naturalHeight : bmp.height;
      const kx = bw / s.width, ky = bh / s.height;
      // Smooth when shrinking; crisp pixels when zoomed in past 2:1 (labelers want to see pixel edges).
      ctx.imageSmoothingEnabled = vp.scale < 2;
      ctx.imageSmoothingQuality = smoothingFor(s.quality, kx / vp.scale);
      ctx.drawImage(bmp, ix0 * kx, iy0 * ky, (ix1 - ix0) * kx, (iy1 - iy0) * ky, dx, dy, dw, dh);
    } else {
      ctx.fillStyle = '#22252b';
      ctx.fillRect(dx, dy, dw, dh);
    }
  }
}

/**
 * The smoothing a level is drawn with. 'medium' makes Chromium build mipmaps of the whole bitmap on first use
 * (a 24 MP level: a 100 ms+ frame on the main thread as a zoom settles); shrinking by less than 2× — the usual
 * case, since the editor asks for the level just above the screen size — looks the same with bilinear 'low'.
 * `levelPxPerScreenPx` is the level's pixels per CSS pixel on screen.
 */
export function smoothingFor(quality: ImageSmoothingQuality, levelPxPerScreenPx: number): ImageSmoothingQuality {
  return quality !== 'low' && levelPxPerScreenPx < 2 ? 'low' : quality;
}

/** Every visible annotation and the labels of selected ones (drawn into the editor's cached shape layer). */
export function drawShapes(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, s: SceneInput): void {
  const { vp } = s;
  const vx0 = -vp.tx / vp.scale, vy0 = -vp.ty / vp.scale, vx1 = vx0 + s.viewW / vp.scale, vy1 = vy0 + s.viewH / vp.scale;
  const seen = new Set<string>();
  // Shapes are drawn one path each with hairline (1 px) strokes: measured in software-rendered Chromium,
  // one big batched Path2D was 2.5× slower and 1.5 px strokes 2× slower than this. Selected shapes go on top.
  const selectedShapes: { g: Geometry; color: string }[] = [];
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
    if (g.kind === 'box' && (g.x > vx1 || g.y > vy1 || g.x + g.w < vx0 || g.y + g.h < vy0)) continue;
    if (sel) {
      selectedShapes.push({ g, color });
      continue;
    }
    ctx.beginPath();
    tracePath(ctx, g, vp);
    ctx.fillStyle = withAlpha(color, fillA);
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = withAlpha(color, strokeA);
    ctx.stroke();
  }
  for (const { g, color } of selectedShapes) {
    ctx.beginPath();
    tracePath(ctx, g, vp);
    ctx.fillStyle = withAlpha(color, Math.min(1, fillA + 0.15));
    ctx.fill();
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  s.masks.retain(seen);

  if (s.showLabels && s.selected.size <= MAX_LABELS) {
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    // labels stay on the image: clipped to it on screen, and placed inside a box that touches its top edge
    ctx.save();
    ctx.beginPath();
    ctx.rect(vp.tx, vp.ty, s.width * vp.scale, s.height * vp.scale);
    ctx.clip();
    for (const a of s.annotations) {
      if (!s.selected.has(a.id) || s.hidden(a)) continue;
      const text = s.nameOf(a.classId);
      const r = labelRect(geometryBounds(s.geometryOf(a)), vp, ctx.measureText(text).width + 10, s.width, s.height);
      ctx.fillStyle = s.colorOf(a.classId);
      ctx.fillRect(r.x, r.y, r.w, r.h);
      ctx.fillStyle = '#0d0e10';
      ctx.fillText(text, r.x + 5, r.y + 8);
    }
    ctx.restore();
  }
}

/** Above this many selected shapes (Ctrl+A on a crowded image) class labels would only cover the image. */
export const MAX_LABELS = 100;

/**
 * Screen rectangle of a shape's class label: above its bounds, or just inside them when above would leave the
 * image; kept within the image horizontally (issue 18: Ctrl+A on 2,000 shapes spilled labels past the image).
 */
export function labelRect(b: { x: number; y: number }, vp: { scale: number; tx: number; ty: number }, textW: number, imgW: number, imgH: number): { x: number; y: number; w: number; h: number } {
  const left = vp.tx, top = vp.ty, right = vp.tx + imgW * vp.scale, bottom = vp.ty + imgH * vp.scale;
  const h = 16;
  let y = vp.ty + b.y * vp.scale - 18;
  if (y < top) y = vp.ty + b.y * vp.scale + 2;
  y = Math.max(top, Math.min(y, bottom - h));
  const x = Math.max(left, Math.min(vp.tx + b.x * vp.scale, right - textW));
  return { x, y, w: textW, h };
}
