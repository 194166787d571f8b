// Overlap and size of any Geometry, with COCO's conventions (areas of polygons are the pixel count of their
// frPoly rasterisation, as the COCO annotations and pycocotools compute them).
import type { Geometry, Rle } from '../../contract/schemas';
import { area as rleArea, rleIou, toBbox } from './rle';
import { boxToRle, polygonsArea, polygonsToRle, ringsBbox } from './rasterize';

export type Bbox = [number, number, number, number];

export function boxIou(a: Bbox, b: Bbox, crowd = false): number {
  const iw = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const denom = crowd ? a[2] * a[3] : a[2] * a[3] + b[2] * b[3] - inter;
  return denom > 0 ? inter / denom : 0;
}

/** Any geometry as an RLE of an h×w image (boxes and polygons rasterised like pycocotools). */
export function geometryToRle(g: Geometry, h: number, w: number): Rle {
  switch (g.kind) {
    case 'box':
      return boxToRle(g.x, g.y, g.w, g.h, h, w);
    case 'polygon':
      return polygonsToRle(g.rings, h, w);
    case 'mask':
      if (g.rle.size[0] !== h || g.rle.size[1] !== w) {
        throw new Error(`mask is ${g.rle.size[1]}x${g.rle.size[0]} but the image is ${w}x${h}`);
      }
      return g.rle;
  }
}

export function geometryBbox(g: Geometry): Bbox {
  switch (g.kind) {
    case 'box':
      return [g.x, g.y, g.w, g.h];
    case 'polygon':
      return ringsBbox(g.rings);
    case 'mask':
      return toBbox(g.rle);
  }
}

/** COCO `area`: w·h for boxes, rasterised pixel count for polygons (needs the image size), RLE area for masks. */
export function geometryArea(g: Geometry, h: number, w: number): number {
  switch (g.kind) {
    case 'box':
      return g.w * g.h;
    case 'polygon':
      return h > 0 && w > 0 ? polygonsArea(g.rings, h, w) : 0;
    case 'mask':
      return rleArea(g.rle);
  }
}

/** Mask IoU of two geometries on an h×w image; boxes only against boxes use the exact continuous formula. */
export function geometryIou(a: Geometry, b: Geometry, h: number, w: number, crowd = false): number {
  if (a.kind === 'box' && b.kind === 'box') return boxIou(geometryBbox(a), geometryBbox(b), crowd);
  return rleIou(geometryToRle(a, h, w), geometryToRle(b, h, w), crowd);
}
