// Brush masks: a binary bitmap the size of the image, row-major (index y*w + x) as the RLE codec takes it.
import type { Rle } from '@contract/schemas';
import { polygonsToRle, rleToPolygons } from '@core/geometry/rasterize';
import { compress, decodeMask, decompress, encodeMask } from '@core/geometry/rle';
import type { Point, Rect } from './geometry';

export interface MaskBitmap {
  w: number;
  h: number;
  data: Uint8Array;
}

export const emptyMask = (w: number, h: number): MaskBitmap => ({ w, h, data: new Uint8Array(w * h) });

export function maskFromRle(rle: Rle): MaskBitmap {
  const [h, w] = rle.size;
  return { w, h, data: decodeMask(rle) };
}

export const maskToRle = (m: MaskBitmap): Rle => encodeMask(m.data, m.h, m.w);

export const get = (m: MaskBitmap, x: number, y: number): number =>
  x < 0 || y < 0 || x >= m.w || y >= m.h ? 0 : m.data[Math.floor(y) * m.w + Math.floor(x)];

/** Sets every pixel whose centre lies within radius r of (cx, cy); returns the touched rectangle. */
export function paintDisc(m: MaskBitmap, cx: number, cy: number, r: number, value: 0 | 1): Rect {
  const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(m.w - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(m.h - 1, Math.ceil(cy + r));
  const r2 = r * r;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy, row = y * m.w;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) m.data[row + x] = value;
    }
  }
  return { x: x0, y: y0, w: Math.max(0, x1 - x0 + 1), h: Math.max(0, y1 - y0 + 1) };
}

/** A stroke through `points`: discs spaced a quarter radius apart so fast strokes leave no gaps. */
export function paintStroke(m: MaskBitmap, points: readonly Point[], r: number, value: 0 | 1): void {
  if (!points.length) return;
  paintDisc(m, points[0].x, points[0].y, r, value);
  const step = Math.max(0.5, r / 4);
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1], b = points[i];
    const n = Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / step);
    for (let k = 1; k <= n; k++) paintDisc(m, a.x + ((b.x - a.x) * k) / n, a.y + ((b.y - a.y) * k) / n, r, value);
  }
}

export function countOn(m: MaskBitmap): number {
  let n = 0;
  for (let i = 0; i < m.data.length; i++) n += m.data[i];
  return n;
}

/** Fills background regions that do not touch the border (holes) — a flood fill from the border. */
export function fillHoles(m: MaskBitmap): MaskBitmap {
  const { w, h, data } = m;
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  const push = (x: number, y: number) => {
    const i = y * w + x;
    if (!data[i] && !outside[i]) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < w; x++) {
    push(x, 0);
    push(x, h - 1);
  }
  for (let y = 0; y < h; y++) {
    push(0, y);
    push(w - 1, y);
  }
  while (stack.length) {
    const i = stack.pop()!;
    const y = Math.floor(i / w), x = i - y * w;
    if (x > 0) push(x - 1, y);
    if (x < w - 1) push(x + 1, y);
    if (y > 0) push(x, y - 1);
    if (y < h - 1) push(x, y + 1);
  }
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = outside[i] ? 0 : 1;
  return { w, h, data: out };
}

export const polygonToMaskRle = (rings: readonly (readonly number[])[], w: number, h: number): Rle => polygonsToRle(rings, h, w);
export const maskRleToRings = (rle: Rle): number[][] => rleToPolygons(rle).rings;

/**
 * The mask moved by whole pixels (dx, dy), pixels pushed past the image edge dropped. Works on the runs
 * (one column segment at a time), never on a full-size bitmap, so dragging a mask on a 24 MP image is cheap.
 */
export function translateRle(rle: Rle, dx: number, dy: number): Rle {
  const { size, counts } = decompress(rle);
  const [h, w] = size;
  dx = Math.round(dx);
  dy = Math.round(dy);
  const out: number[] = [];
  let last = 0; // column-major position where the last written 1-run ended
  let start = -1, end = -1; // the 1-run being built, [start, end)
  const flush = () => {
    if (start < 0) return;
    out.push(start - last, end - start);
    last = end;
  };
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (i % 2 === 1) {
      for (let p = pos, stop = pos + n; p < stop; ) {
        const x = Math.floor(p / h), y0 = p - x * h;
        const len = Math.min(h - y0, stop - p);
        const nx = x + dx, a = Math.max(0, y0 + dy), b = Math.min(h, y0 + len + dy);
        if (nx >= 0 && nx < w && b > a) {
          // Segments come out in column-major order (a shift keeps their order), so runs can be joined here.
          if (nx * h + a === end) end = nx * h + b;
          else {
            flush();
            start = nx * h + a;
            end = nx * h + b;
          }
        }
        p += len;
      }
    }
    pos += n;
  }
  flush();
  if (h * w > last || out.length === 0) out.push(h * w - last);
  return compress({ size: [h, w], counts: out });
}
