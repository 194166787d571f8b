// Predictions for whole photos from a model trained on tiles (TaskModelSpec.tiles): each photo is cut into the
// same overlapping tiles as in training (geometry/tiles.ts), each tile is predicted as an image of its own
// (a pipeline over DatasetImages with `crop`, so only the tile is decoded), and the tiles' results are moved into
// the photo's pixels and merged: boxes by class-wise NMS, instance masks pasted on their runs, semantic maps
// stitched so each pixel comes from the tile where it lies farthest from a cut edge, class probabilities
// averaged. The result has predictAll's shape (one entry per photo, in photo pixels), so callers don't care.
import { ImageDecodeError, orientedSize } from '../data/decode';
import { createDataPipeline, type DataPipeline } from '../data/pipeline';
import type { Normalisation } from '../data/types';
import type { Dataset, DatasetImage } from '../datasets/types';
import { pasteRle } from '../geometry/rle';
import { mergeTileDetections, regionKey, stitchTileMaps, tileGrid, type Tile, type TileSpec } from '../geometry/tiles';
import type { PredictedObject, TaskModel, TaskPrediction } from '../task-model/task-model';
import { predictAll, type ImagePrediction, type PredictOptions } from './predict-all';

export interface TiledPredictOptions extends PredictOptions {
  tiles: TileSpec;
  /** the model's input size (square side or [height, width]) and normalisation, as in its spec */
  size: number | [number, number];
  norm: Normalisation;
  /** detections of overlapping tiles with a box IoU above this are one object (default 0.5) */
  iouThreshold?: number;
  /** merge overlapping detections whatever their class (the best-scoring one stays) */
  classAgnostic?: boolean;
  /** predict only these images of the dataset (indices into dataset.images; default: all, in order) */
  indices?: readonly number[];
  /** after each photo: its prediction (null when it could not be read), photos done, photos in all */
  onPhoto?: (p: ImagePrediction | null, done: number, total: number) => void;
  /** once per photo that could not be predicted, with the reason */
  onWarning?: (message: string) => void;
  maxPixels?: number;
}

/** Predicts each photo tile by tile; a cancel (signal) throws between batches of tiles. */
export async function predictTiled(model: TaskModel, dataset: Pick<Dataset, 'images'>, opts: TiledPredictOptions): Promise<ImagePrediction[]> {
  const indices = opts.indices ?? dataset.images.map((_, i) => i);
  const out: ImagePrediction[] = [];
  for (let n = 0; n < indices.length; n++) {
    if (opts.signal?.aborted) throw new Error('evaluation cancelled');
    const di = indices[n];
    const p = await predictPhoto(model, dataset.images[di], di, opts);
    if (p) out.push(p);
    opts.onPhoto?.(p, n + 1, indices.length);
  }
  return out;
}

async function predictPhoto(model: TaskModel, im: DatasetImage, datasetIndex: number, opts: TiledPredictOptions): Promise<ImagePrediction | null> {
  const skip = (reason: string) => {
    opts.onWarning?.(`image '${im.fileName}' skipped: ${reason}`);
    return null;
  };
  if (!im.absPath) return skip('the file is missing');
  // the header's size, not the declared one: a tile outside the real image would fail to decode, and one short
  // of its edge would leave objects unseen (reading the header costs nothing next to decoding the tiles)
  let W: number, H: number;
  if (im.crop) ({ w: W, h: H } = im.crop);
  else {
    try {
      ({ width: W, height: H } = await orientedSize(im.absPath, im.fileName));
    } catch (e) {
      return skip(e instanceof ImageDecodeError ? e.reason : e instanceof Error ? e.message : String(e));
    }
  }
  const ox = im.crop?.x ?? 0;
  const oy = im.crop?.y ?? 0;
  const tiles = tileGrid(W, H, opts.tiles);
  // a tile's key names its region: never another image's key (a feature cache looks samples up by key)
  const tileImages: DatasetImage[] = tiles.map((t, i) => ({
    key: regionKey(im.key, { x: ox + t.x, y: oy + t.y, w: t.w, h: t.h }), fileName: `${im.fileName} (tile ${i + 1}/${tiles.length} at ${t.x}, ${t.y})`, absPath: im.absPath, width: t.w, height: t.h,
    crop: { x: ox + t.x, y: oy + t.y, w: t.w, h: t.h },
  }));
  const pipe = createDataPipeline({
    dataset: { images: tileImages, classes: [], annotations: [], issues: [] },
    // no annotations are read: the class list only has to be valid
    classes: { names: ['-'] },
    size: opts.size, norm: opts.norm, seed: 0, semantic: false, cacheSize: 1, maxPixels: opts.maxPixels,
    onWarning: () => {}, // a tile that fails is reported once, for its photo, below
  });
  const preds = await predictAll(model, pipe, { batchSize: opts.batchSize, scoreThreshold: opts.scoreThreshold, signal: opts.signal, only: opts.only });
  if (preds.length !== tiles.length) {
    const f = pipe.failed()[0];
    return skip(f ? `${f.fileName}: ${f.reason}` : `${tiles.length - preds.length} of its ${tiles.length} tiles could not be predicted`);
  }
  const byTile = new Array<TaskPrediction>(tiles.length);
  for (const p of preds) byTile[p.datasetIndex] = p.prediction;
  return { datasetIndex, key: im.key, prediction: mergeTilePredictions(tiles, byTile, W, H, opts) };
}

/** The tiles' predictions (each in its tile's pixels) as one prediction in the photo's W×H pixels. */
export function mergeTilePredictions(tiles: readonly Tile[], preds: readonly TaskPrediction[], W: number, H: number, opts: { iouThreshold?: number; classAgnostic?: boolean } = {}): TaskPrediction {
  // the transform of the photo: no letterbox of its own; `scale` is the tiles' (input pixels per photo pixel)
  const out: TaskPrediction = { transform: { origW: W, origH: H, scale: preds[0]?.transform.scale ?? 1, padX: 0, padY: 0, flipped: false } };
  if (preds.some((p) => p.objects)) {
    const perTile = preds.map((p) => p.objects ?? []);
    const kept = mergeTileDetections(tiles, perTile.map((os) => os.map((o) => ({ classId: o.classIndex, score: o.score, bbox: o.bbox }))), opts.iouThreshold ?? 0.5, { classAgnostic: opts.classAgnostic });
    out.objects = kept.map((d) => {
      const src = perTile[d.tile][d.index];
      const o: PredictedObject = { classIndex: d.classId, score: d.score, bbox: d.bbox };
      if (src.rle) o.rle = pasteRle(src.rle, tiles[d.tile].x, tiles[d.tile].y, H, W);
      return o;
    });
  }
  if (preds.length > 0 && preds.every((p) => p.semantic)) out.semantic = stitchTileMaps(tiles, preds.map((p) => p.semantic!), W, H);
  if (preds.length > 0 && preds.every((p) => p.classProbs)) {
    // a whole-photo class from tiles: their mean probability (each tile saw a part of the photo)
    const mean = new Float32Array(preds[0].classProbs!.length);
    for (const p of preds) p.classProbs!.forEach((v, k) => (mean[k] += v / preds.length));
    out.classProbs = mean;
  }
  return out;
}

/** What says how a model cuts its input: a TaskModelSpec fits as is (`tiles` null or absent: whole images). */
export interface TilingOf {
  tiles?: TileSpec | null;
  norm: Normalisation;
}

/**
 * The images of `data` (a pipeline over `dataset`, which chose the split) predicted as the model was trained:
 * whole images through the pipeline, or, with `tiled.tiles`, each photo tile by tile and merged.
 */
export async function predictPipeline(model: TaskModel, dataset: Pick<Dataset, 'images'>, data: DataPipeline, opts: PredictOptions & { tiled?: TilingOf | null } & Pick<TiledPredictOptions, 'onPhoto' | 'onWarning' | 'classAgnostic' | 'iouThreshold'> = {}): Promise<ImagePrediction[]> {
  const tiles = opts.tiled?.tiles;
  if (!tiles) return predictAll(model, data, opts);
  return predictTiled(model, dataset, {
    ...opts, tiles, size: [data.size.height, data.size.width], norm: opts.tiled!.norm,
    indices: Array.from({ length: data.length }, (_, i) => data.image(i).datasetIndex),
  });
}
