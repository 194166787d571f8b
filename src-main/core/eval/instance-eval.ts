// Box and mask AP for studio-shaped records (any Geometry: box, polygon or mask), for the trainer's
// validation pass and `hst-studio eval`. Converts each geometry the way pycocotools would see it in a COCO
// file: polygons are rasterised with frPoly semantics, boxes come from the geometry (tight mask box for
// masks), areas are mask pixel counts where a mask exists, else box w·h.
import type { Geometry, Rle } from '../../contract/schemas';
import { area as rleArea, toBbox } from '../geometry/rle';
import { polygonsToRle, ringsBbox } from '../geometry/rasterize';
import { evaluateCoco, type CocoDetection, type CocoEvalResult, type CocoGroundTruth, type Xywh } from './coco-eval';

export interface EvalImage {
  id: number;
  width: number;
  height: number;
}

export interface EvalObject {
  imageId: number;
  classId: number;
  geometry: Geometry;
  iscrowd?: boolean;
}

export interface EvalPrediction extends EvalObject {
  score: number;
  /** Predicted box when the geometry is a mask (instance models predict both); defaults to the mask's box. */
  box?: Xywh;
}

export interface InstanceEvalResult {
  bbox: CocoEvalResult;
  /** Null when no evaluated class has mask ground truth (box-only labels). */
  segm: CocoEvalResult | null;
  /** Classes left out of mask AP because some of their ground truth is box-only. */
  segmSkippedClasses: number[];
}

interface Converted {
  bbox: Xywh;
  mask: Rle | null;
  area: number;
}

function convert(g: Geometry, img: EvalImage | undefined, what: string): Converted {
  if (!img) throw new Error(`${what}: its image is not in the evaluated image list`);
  switch (g.kind) {
    case 'box':
      return { bbox: [g.x, g.y, g.w, g.h], mask: null, area: g.w * g.h };
    case 'polygon': {
      const mask = polygonsToRle(g.rings, img.height, img.width);
      return { bbox: ringsBbox(g.rings), mask, area: rleArea(mask) };
    }
    case 'mask': {
      const [h, w] = g.rle.size;
      if (h !== img.height || w !== img.width) {
        throw new Error(`${what}: mask is ${w}x${h} but image ${img.id} is ${img.width}x${img.height}`);
      }
      return { bbox: toBbox(g.rle), mask: g.rle, area: rleArea(g.rle) };
    }
    default:
      throw new Error(`${what}: unknown geometry kind ${JSON.stringify((g as { kind?: unknown }).kind)}`);
  }
}

export function evaluateInstances(args: {
  images: readonly EvalImage[];
  classIds: readonly number[];
  groundTruth: readonly EvalObject[];
  predictions: readonly EvalPrediction[];
}): InstanceEvalResult {
  const imgs = new Map(args.images.map((im) => [im.id, im]));
  const imageIds = args.images.map((im) => im.id);
  const gts: (CocoGroundTruth & { hasMask: boolean })[] = args.groundTruth.map((o, n) => {
    const c = convert(o.geometry, imgs.get(o.imageId), `ground truth ${n} (image ${o.imageId}, class ${o.classId})`);
    return { imageId: o.imageId, categoryId: o.classId, bbox: c.bbox, segmentation: c.mask ?? undefined, area: c.area, iscrowd: !!o.iscrowd, hasMask: !!c.mask };
  });
  const dts: (CocoDetection & { hasMask: boolean })[] = args.predictions.map((o, n) => {
    const c = convert(o.geometry, imgs.get(o.imageId), `prediction ${n} (image ${o.imageId}, class ${o.classId})`);
    const bbox = o.box ?? c.bbox;
    return { imageId: o.imageId, categoryId: o.classId, score: o.score, bbox, segmentation: c.mask ?? undefined, hasMask: !!c.mask };
  });
  const bbox = evaluateCoco(gts, dts, { iouType: 'bbox', imageIds, categoryIds: args.classIds });

  // mask AP only for classes whose ground truth all has masks, and only predictions with masks
  const boxOnly = new Set(gts.filter((g) => !g.hasMask).map((g) => g.categoryId));
  const withMasks = new Set(gts.filter((g) => g.hasMask).map((g) => g.categoryId));
  const segmClasses = args.classIds.filter((c) => !boxOnly.has(c) && withMasks.has(c));
  const segm = segmClasses.length
    ? evaluateCoco(
        gts.filter((g) => g.hasMask),
        // pycocotools takes a detection's area from its box when results carry one; keep that quirk
        dts.filter((d) => d.hasMask),
        { iouType: 'segm', imageIds, categoryIds: segmClasses },
      )
    : null;
  return { bbox, segm, segmSkippedClasses: args.classIds.filter((c) => boxOnly.has(c)) };
}
