// A dataset of large photos as a dataset of their tiles (tiles.ts): each photo larger than a tile becomes one
// image per tile (the data pipeline decodes only that region, DatasetImage.crop), with its annotations cut to
// the tile and moved into the tile's pixels. Training then runs on tiles exactly as on whole images. Pure.
import type { Geometry } from '../../contract/schemas';
import type { Dataset, DatasetAnnotation, DatasetImage } from '../datasets/types';
import { geometryBbox } from '../geometry/iou';
import { compress, decompress, type RawRle } from '../geometry/rle';
import { clipRing, ringArea } from '../geometry/validate';
import { boxInTile, parseRegionKey, tileGrid, type Tile, type TileSpec } from './tiles';

export interface TileOrigin {
  /** key of the photo the tile was cut from */
  imageKey: string;
  /** index of the tile in tileGrid(photo) */
  index: number;
  tile: Tile;
}

export interface TiledDataset {
  dataset: Dataset;
  /** every tile image's key → the photo and rectangle it shows (photos kept whole are absent) */
  tileOf: Map<string, TileOrigin>;
  /** photos cut into tiles, and the tiles they became */
  photosCut: number;
  tiles: number;
  /** annotations left out of a tile because less than `minVisible` of them lay inside it, counted per tile */
  cutAway: number;
}

export const tileKey = (imageKey: string, index: number): string => `${imageKey}#${index}`;

/**
 * The feature-cache key of a tile: the photo's content hash and the rectangle (a tile's ViT pass depends on
 * both; the same photo tiled another way gets other entries).
 */
export const tileHash = (imageHash: string, t: Tile): string => `${imageHash}@${t.x},${t.y},${t.w},${t.h}`;

/**
 * The feature-cache key of a pipeline image: its content hash, or for a tile the photo's hash and the tile's
 * rectangle, so that each tile has its own ViT pass. `hashOf`: photo key → content hash.
 */
export function cacheKeyOf(hashOf: { get(key: string): string | undefined }, tileOf?: ReadonlyMap<string, TileOrigin>): (key: string) => string | undefined {
  return (key) => {
    const t = tileOf?.get(key);
    if (t) {
      const h = hashOf.get(t.imageKey);
      return h === undefined ? undefined : tileHash(h, t.tile);
    }
    // a tile as whole-photo prediction cuts it (eval/tiled-predict.ts): the same rectangle has the same entry
    const r = parseRegionKey(key);
    if (r) {
      const h = hashOf.get(r.photoKey);
      return h === undefined ? undefined : tileHash(h, r.tile);
    }
    return hashOf.get(key);
  };
}

export interface TileDatasetOptions {
  /** keep a shape in a tile when at least this fraction of it (box, polygon or mask area) is inside; default 0.5 */
  minVisible?: number;
}

/**
 * Cuts every photo larger than a tile (either side > spec.size) into tileGrid's tiles; smaller photos stay
 * whole. Needs each photo's EXIF-oriented size (the store records it; a COCO file declares it).
 */
export function tileDataset(ds: Dataset, spec: TileSpec, opts: TileDatasetOptions = {}): TiledDataset {
  const minVisible = opts.minVisible ?? 0.5;
  const byImage = new Map<string, DatasetAnnotation[]>();
  for (const a of ds.annotations) {
    let l = byImage.get(a.imageKey);
    if (!l) byImage.set(a.imageKey, (l = []));
    l.push(a);
  }
  const images: DatasetImage[] = [];
  const annotations: DatasetAnnotation[] = [];
  const tileOf = new Map<string, TileOrigin>();
  let photosCut = 0;
  let cutAway = 0;
  for (const im of ds.images) {
    const anns = byImage.get(im.key) ?? [];
    if (im.crop) throw new Error(`image '${im.fileName}' is already a region of a photo; it cannot be tiled again`);
    if (!(im.width > 0 && im.height > 0)) {
      throw new Error(`image '${im.fileName}': its size is not known, so it cannot be cut into tiles of ${spec.size} px (import it into a studio project, which reads every photo's size)`);
    }
    if (im.width <= spec.size && im.height <= spec.size) {
      images.push(im);
      annotations.push(...anns);
      continue;
    }
    photosCut++;
    // a mask's runs are decoded once per photo, not once per tile
    const raw = new Map<DatasetAnnotation, RawRle>();
    tileGrid(im.width, im.height, spec).forEach((tile, index) => {
      const key = tileKey(im.key, index);
      images.push({ ...im, key, crop: { ...tile }, width: tile.w, height: tile.h });
      tileOf.set(key, { imageKey: im.key, index, tile });
      for (const a of anns) {
        let g: Geometry | null;
        if (a.geometry.kind === 'mask') {
          let r = raw.get(a);
          if (!r) raw.set(a, (r = decompress(a.geometry.rle)));
          g = maskInTile(r, tile, minVisible);
        } else g = geometryInTile(a.geometry, tile, minVisible);
        if (g) annotations.push({ ...a, imageKey: key, geometry: g });
        else if (overlaps(a.geometry, tile)) cutAway++;
      }
    });
  }
  return { dataset: { ...ds, images, annotations }, tileOf, photosCut, tiles: tileOf.size, cutAway };
}

function overlaps(g: Geometry, t: Tile): boolean {
  const [x, y, w, h] = geometryBbox(g);
  return x < t.x + t.w && x + w > t.x && y < t.y + t.h && y + h > t.y;
}

/**
 * A box or polygon in the photo's pixels as seen by a tile, in the tile's pixels; null when less than
 * `minVisible` of it lies inside. A polygon is clipped to the tile's rectangle (Sutherland–Hodgman); rings that
 * keep no area are dropped.
 */
export function geometryInTile(g: Exclude<Geometry, { kind: 'mask' }>, tile: Tile, minVisible = 0.5): Geometry | null {
  if (g.kind === 'box') {
    const b = boxInTile([g.x, g.y, g.w, g.h], tile, minVisible);
    return b ? { kind: 'box', x: b[0], y: b[1], w: b[2], h: b[3] } : null;
  }
  let whole = 0;
  let kept = 0;
  const rings: number[][] = [];
  for (const ring of g.rings) {
    whole += ringArea(ring);
    const moved = ring.map((v, i) => v - (i % 2 === 0 ? tile.x : tile.y));
    const clipped = clipRing(moved, tile.w, tile.h);
    const a = clipped.length >= 6 ? ringArea(clipped) : 0;
    if (a > 0) {
      rings.push(clipped);
      kept += a;
    }
  }
  if (rings.length === 0) return null;
  // a degenerate polygon (no area) counts as visible by its box
  if (whole > 0 ? kept / whole < minVisible : !boxInTile(geometryBbox(g), tile, minVisible)) return null;
  return { kind: 'polygon', rings };
}

/** A mask (RLE over the photo) cut to a tile, as an RLE over the tile; null when less than `minVisible` of its area is inside. */
export function maskInTile(raw: RawRle, tile: Tile, minVisible = 0.5): Geometry | null {
  const cut = cropRle(raw, tile);
  if (cut.kept === 0 || cut.kept / Math.max(1, cut.total) < minVisible) return null;
  return { kind: 'mask', rle: compress(cut.rle) };
}

/**
 * Crops a column-major RLE (pycocotools layout) to a rectangle without decoding the whole mask: each run of
 * ones is split at the column boundaries it crosses, and only the columns and rows inside the rectangle are
 * kept. The rectangle is clamped to the mask's size.
 */
export function cropRle(raw: RawRle, tile: Tile): { rle: RawRle; kept: number; total: number } {
  const [H, W] = raw.size;
  const x0 = Math.max(0, tile.x);
  const y0 = Math.max(0, tile.y);
  const x1 = Math.min(W, tile.x + tile.w);
  const y1 = Math.min(H, tile.y + tile.h);
  const th = tile.h;
  const tw = tile.w;
  const counts: number[] = [];
  let end = 0; // end (exclusive) of the last run of ones written, in the tile's column-major positions
  let open = false; // whether counts ends with a run of ones that the next piece may extend
  let kept = 0;
  let total = 0;
  const push = (p0: number, p1: number) => {
    kept += p1 - p0;
    if (open && p0 === end) counts[counts.length - 1] += p1 - p0;
    else {
      counts.push(p0 - end, p1 - p0);
      open = true;
    }
    end = p1;
  };
  let pos = 0;
  for (let i = 0; i < raw.counts.length; i++) {
    const n = raw.counts[i];
    if (i % 2 === 1 && n > 0) {
      total += n;
      const s = pos;
      const e = pos + n;
      const c0 = Math.max(Math.floor(s / H), x0);
      const c1 = Math.min(Math.floor((e - 1) / H), x1 - 1);
      for (let c = c0; c <= c1; c++) {
        const r0 = Math.max(s - c * H, 0, y0);
        const r1 = Math.min(e - c * H, H, y1);
        if (r1 <= r0) continue;
        const base = (c - tile.x) * th - tile.y;
        push(base + r0, base + r1);
      }
    }
    pos += n;
  }
  counts.push(th * tw - end);
  return { rle: { size: [th, tw], counts }, kept, total };
}
