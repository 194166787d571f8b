// Tiling large photos with small objects: instead of shrinking a 4000×3000 photo to the network's input (where
// a 40 px object becomes 2 px), the photo is cut into overlapping tiles that are each resized to the input.
// Detections of neighbouring tiles overlap where the tiles do; they are merged per class by non-maximum
// suppression in the photo's own pixels.
import { boxIou } from './iou';

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
  /** its index in that tile's list (to carry along what else the tile predicted for it, e.g. its mask) */
  index: number;
}

/**
 * Moves each tile's detections into the photo's frame and keeps, per class, the highest-scoring of any group
 * overlapping by IoU > `iouThreshold` (greedy NMS). An object cut by a tile edge is also seen whole by the
 * neighbouring tile when the overlap is at least the object's size; its cut, smaller box is then suppressed
 * when it overlaps the whole one enough, or kept as a lower-scored duplicate otherwise. `classAgnostic`: one
 * detection per place whatever its class (the best-scoring class wins).
 */
export function mergeTileDetections(tiles: readonly Tile[], perTile: readonly (readonly TileDetection[])[], iouThreshold = 0.5, opts: { classAgnostic?: boolean } = {}): Detection[] {
  if (tiles.length !== perTile.length) throw new Error(`${tiles.length} tiles but detections for ${perTile.length}`);
  const all: Detection[] = [];
  perTile.forEach((dets, t) => {
    dets.forEach((d, index) => all.push({ classId: d.classId, score: d.score, bbox: [d.bbox[0] + tiles[t].x, d.bbox[1] + tiles[t].y, d.bbox[2], d.bbox[3]], tile: t, index }));
  });
  all.sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of all) {
    if (kept.some((k) => (opts.classAgnostic || k.classId === d.classId) && boxIou(k.bbox, d.bbox) > iouThreshold)) continue;
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

/**
 * The tiles are a grid (tileGrid's order: rows of tiles, left to right): for each photo column the tile column
 * whose nearest inner edge is farthest, and the same for rows. A photo border is no edge (nothing is cut there).
 */
function bestAlong(starts: readonly number[], side: number, length: number): Int32Array {
  const best = new Int32Array(length);
  for (let p = 0; p < length; p++) {
    let pick = 0;
    let far = -Infinity;
    starts.forEach((s, i) => {
      if (p < s || p >= s + side) return;
      const lo = s === 0 ? Infinity : p - s;
      const hi = s + side >= length ? Infinity : s + side - 1 - p;
      const d = Math.min(lo, hi);
      if (d > far) {
        far = d;
        pick = i;
      }
    });
    best[p] = pick;
  }
  return best;
}

/**
 * Stitches per-tile row-major label maps (each tile.h×tile.w) into one width×height map: each photo pixel takes
 * the value of the tile in which it lies farthest from a cut edge (where the network saw the most context), so
 * the seams fall in the middle of the overlaps. Equivalent to maximising min(distance to the 4 inner edges) per
 * pixel, which on a grid separates into a choice per column and per row.
 */
export function stitchTileMaps(tiles: readonly Tile[], maps: readonly Uint8Array[], width: number, height: number): Uint8Array {
  if (tiles.length !== maps.length) throw new Error(`${tiles.length} tiles but ${maps.length} maps`);
  tiles.forEach((t, i) => {
    if (maps[i].length !== t.w * t.h) throw new Error(`tile ${i} is ${t.w}×${t.h} but its map has ${maps[i].length} pixels`);
  });
  const xs = [...new Set(tiles.map((t) => t.x))].sort((a, b) => a - b);
  const ys = [...new Set(tiles.map((t) => t.y))].sort((a, b) => a - b);
  if (xs.length * ys.length !== tiles.length) throw new Error(`${tiles.length} tiles do not form a grid of ${xs.length}×${ys.length}`);
  const tw = tiles[0].w;
  const th = tiles[0].h;
  const at = new Map(tiles.map((t, i) => [`${t.x},${t.y}`, i]));
  const col = bestAlong(xs, tw, width);
  const row = bestAlong(ys, th, height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const ty = ys[row[y]];
    let x = 0;
    while (x < width) {
      // a run of photo columns taken from the same tile column: copied in one go
      const c = col[x];
      let end = x + 1;
      while (end < width && col[end] === c) end++;
      const tx = xs[c];
      const t = at.get(`${tx},${ty}`);
      if (t === undefined) throw new Error(`no tile at (${tx}, ${ty})`);
      const m = maps[t];
      const start = (y - ty) * tw;
      out.set(m.subarray(start + x - tx, start + end - tx), y * width + x);
      x = end;
    }
  }
  return out;
}

/**
 * The dataset key of one tile of a photo when prediction cuts it (eval/tiled-predict.ts): it names the photo and
 * the rectangle, so a feature cache can find the ViT pass that training cached for the same tile.
 */
export const regionKey = (photoKey: string, t: Tile): string => `${photoKey}#tile@${t.x},${t.y},${t.w}x${t.h}`;

/** The photo key and rectangle of a regionKey, or null for any other key. */
export function parseRegionKey(key: string): { photoKey: string; tile: Tile } | null {
  const m = /^(.*)#tile@(\d+),(\d+),(\d+)x(\d+)$/s.exec(key);
  return m ? { photoKey: m[1], tile: { x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) } } : null;
}
