// Image ↔ screen transform: screen = image * scale + offset. Plain data so tools and tests share it.
import type { Point } from './geometry';

export interface Viewport {
  scale: number;
  tx: number;
  ty: number;
}

export const MIN_SCALE = 0.01;
export const MAX_SCALE = 64;

export const toImage = (v: Viewport, p: Point): Point => ({ x: (p.x - v.tx) / v.scale, y: (p.y - v.ty) / v.scale });
export const toScreen = (v: Viewport, p: Point): Point => ({ x: p.x * v.scale + v.tx, y: p.y * v.scale + v.ty });

/** Whole image centred in the view with a small margin. */
export function fit(imgW: number, imgH: number, viewW: number, viewH: number, margin = 16): Viewport {
  const scale = Math.max(MIN_SCALE, Math.min((viewW - 2 * margin) / imgW, (viewH - 2 * margin) / imgH));
  return { scale, tx: (viewW - imgW * scale) / 2, ty: (viewH - imgH * scale) / 2 };
}

/** 1:1 pixels, keeping the image point under the view centre in place. */
export function actualSize(v: Viewport, viewW: number, viewH: number): Viewport {
  return zoomAt(v, { x: viewW / 2, y: viewH / 2 }, 1 / v.scale);
}

/** Zooms by `factor` keeping the image point under screen point `at` fixed. */
export function zoomAt(v: Viewport, at: Point, factor: number): Viewport {
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, v.scale * factor));
  const k = scale / v.scale;
  return { scale, tx: at.x - (at.x - v.tx) * k, ty: at.y - (at.y - v.ty) * k };
}

export const pan = (v: Viewport, dx: number, dy: number): Viewport => ({ ...v, tx: v.tx + dx, ty: v.ty + dy });
