/// <reference lib="dom" />
// (DOM types: these modules are also type-checked through the unit tests under the Node tsconfig.)
// Masks as small bitmaps cropped to their bounding box: decoded once per (annotation, RLE, colour) and reused
// every frame for drawing and pixel-exact hit-testing.
import type { Rle } from '@contract/schemas';
import { decompress, toBbox } from '@core/geometry/rle';

export interface MaskRaster {
  x: number;
  y: number;
  w: number;
  h: number;
  /** row-major bits of the crop, for hit tests */
  bits: Uint8Array;
  canvas: OffscreenCanvas | HTMLCanvasElement | null;
}

function hexRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Pure part (testable without a DOM): the crop and its bits, filled from the runs (no full-size decode). */
export function cropMask(rle: Rle): Omit<MaskRaster, 'canvas'> {
  const raw = decompress(rle);
  const H = raw.size[0];
  const [x, y, w, h] = toBbox(raw);
  const bits = new Uint8Array(w * h);
  let pos = 0;
  for (let i = 0; i < raw.counts.length; i++) {
    const n = raw.counts[i];
    if (i % 2 === 1) {
      for (let p = pos, stop = pos + n; p < stop; ) {
        const col = Math.floor(p / H), y0 = p - col * H;
        const len = Math.min(H - y0, stop - p);
        for (let k = 0, o = (y0 - y) * w + (col - x); k < len; k++, o += w) bits[o] = 1;
        p += len;
      }
    }
    pos += n;
  }
  return { x, y, w, h, bits };
}

function paint(crop: Omit<MaskRaster, 'canvas'>, color: string): OffscreenCanvas | HTMLCanvasElement | null {
  if (!crop.w || !crop.h) return null;
  const canvas: OffscreenCanvas | HTMLCanvasElement =
    typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(crop.w, crop.h) : Object.assign(document.createElement('canvas'), { width: crop.w, height: crop.h });
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) return null;
  const img = ctx.createImageData(crop.w, crop.h);
  const [r, g, b] = hexRgb(color);
  for (let i = 0; i < crop.bits.length; i++) {
    if (!crop.bits[i]) continue;
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

export class MaskRasterCache {
  private map = new Map<string, { key: string; raster: MaskRaster }>();

  get(id: string, rle: Rle, color: string): MaskRaster {
    const key = `${rle.counts.length}:${rle.counts.slice(0, 64)}:${rle.counts.slice(-64)}:${color}`;
    const hit = this.map.get(id);
    if (hit && hit.key === key) return hit.raster;
    const crop = cropMask(rle);
    const raster = { ...crop, canvas: paint(crop, color) };
    this.map.set(id, { key, raster });
    return raster;
  }

  /** Drops entries for annotations no longer shown. */
  retain(ids: Set<string>): void {
    for (const id of this.map.keys()) if (!ids.has(id)) this.map.delete(id);
  }
}

export function rasterHit(r: Omit<MaskRaster, 'canvas'>, px: number, py: number): boolean {
  const cx = Math.floor(px) - r.x, cy = Math.floor(py) - r.y;
  return cx >= 0 && cy >= 0 && cx < r.w && cy < r.h && r.bits[cy * r.w + cx] === 1;
}
