// Tiling large photos with small objects: instead of shrinking a 4000×3000 photo to the network's input (where
// a 40 px object becomes 2 px), the photo is cut into overlapping tiles that are each resized to the input.
// Detections of neighbouring tiles overlap where the tiles do; they are merged per class by non-maximum
// suppression in the photo's own pixels.
import { boxIou } from '../geometry/iou';

export interface TileSpec {
  /** tile side in the photo's pixels */
  size: number;
  /** overlap of neighbouring tiles in the photo's pixels (< size) */
  overlap: number;
}

export interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Start offsets along one axis: evenly spread so the first tile starts at 0 and the last ends at `length`. */
function starts(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const n = Math.ceil((length - overlap) / (size - overlap));
  const step = (length - size) / (n - 1);
  return Array.from({ length: n }, (_, i) => Math.round(i * step));
}

/** The tiles covering a width×height photo: every pixel is in a tile and neighbours overlap by ≥ `overlap`. */
export function tileGrid(width: number, height: number, spec: TileSpec): Tile[] {
  if (!(spec.size > 0 && spec.overlap >= 0 && spec.overlap < spec.size)) throw new Error(`tile size ${spec.size} with overlap ${spec.overlap} is not a tiling`);
  const xs = starts(width, spec.size, spec.overlap);
  const ys = starts(height, spec.size, spec.overlap);
  const out: Tile[] = [];
  for (const y of ys) for (const x of xs) out.push({ x, y, w: Math.min(spec.size, width), h: Math.min(spec.size, height) });
  return out;
}

export function tileCount(width: number, height: number, spec: TileSpec): number {
  if (width <= 0 || height <= 0) return 1;
  return starts(width, spec.size, spec.overlap).length * starts(height, spec.size, spec.overlap).length;
}

export interface TileDetection {
  classId: number;
  score: number;
  /** [x, y, w, h] in the tile's pixels */
  bbox: [number, number, number, number];
}

export interface Detection {
  classId: number;
  score: number;
  /** [x, y, w, h] in the photo's pixels */
  bbox: [number, number, number, number];
  /** index of the tile the kept detection came from */
  tile: number;
}

/**
 * Moves each tile's detections into the photo's frame and keeps, per class, the highest-scoring of any group
 * overlapping by IoU > `iouThreshold` (greedy NMS). An object cut by a tile edge is also seen whole by the
 * neighbouring tile when the overlap is at least the object's size; its cut, smaller box is then suppressed
 * when it overlaps the whole one enough, or kept as a lower-scored duplicate otherwise.
 */
export function mergeTileDetections(tiles: readonly Tile[], perTile: readonly (readonly TileDetection[])[], iouThreshold = 0.5): Detection[] {
  if (tiles.length !== perTile.length) throw new Error(`${tiles.length} tiles but detections for ${perTile.length}`);
  const all: Detection[] = [];
  perTile.forEach((dets, t) => {
    for (const d of dets) all.push({ classId: d.classId, score: d.score, bbox: [d.bbox[0] + tiles[t].x, d.bbox[1] + tiles[t].y, d.bbox[2], d.bbox[3]], tile: t });
  });
  all.sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of all) {
    if (kept.some((k) => k.classId === d.classId && boxIou(k.bbox, d.bbox) > iouThreshold)) continue;
    kept.push(d);
  }
  return kept;
}

/** A box in the photo's pixels cut to a tile, in the tile's pixels; null when less than `minVisible` of it is inside. */
export function boxInTile(bbox: readonly number[], tile: Tile, minVisible = 0.5): [number, number, number, number] | null {
  const x1 = Math.max(bbox[0], tile.x);
  const y1 = Math.max(bbox[1], tile.y);
  const x2 = Math.min(bbox[0] + bbox[2], tile.x + tile.w);
  const y2 = Math.min(bbox[1] + bbox[3], tile.y + tile.h);
  if (x2 <= x1 || y2 <= y1) return null;
  const area = bbox[2] * bbox[3];
  if (area > 0 && ((x2 - x1) * (y2 - y1)) / area < minVisible) return null;
  return [x1 - tile.x, y1 - tile.y, x2 - x1, y2 - y1];
}
