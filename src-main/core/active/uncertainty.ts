// "Label next": orders unlabeled images by how unsure the active model is about them, so the user labels what
// helps the model most (issue 8, active learning queue).
//
// Per detection d with score s_d (the model's class confidence) the ingredients are
//   entropy  e_d = binary entropy of s_d in bits (1 at s = 0.5, 0 at s ∈ {0, 1}); with a full class
//                  distribution p_d (classification, or a head that reports one): H(p_d) / log2(K)
//   margin   m_d = s_d − s_d′, where s_d′ is the best competing class score for the same object: the runner-up
//                  of p_d, else the best other-class detection overlapping d with IoU ≥ 0.5, else 0
// and per image, over detections with s ≥ minScore (default 0.05):
//   E = mean of the 3 largest e_d                       (0 without detections)
//   M = 1 − m_best, for the highest-scoring detection   (1 without detections: nothing is decided)
//   L = n_low / (n_low + 2), n_low = #{d : s_d < confident}   (many half-seen objects → near 1)
//   base = 0.4·E + 0.3·M + 0.3·L                        ∈ [0, 1]
// and the score, in [0, 1]:
//   no detection with s ≥ confident (default 0.5):  0.75 + 0.25·base   (always above every image below)
//   otherwise:                                        0.75·base
// so images on which the model finds nothing it believes come first, then the most ambiguous ones; an image
// with only a few confident, unambiguous detections scores near 0. Ties keep the image-id order.
import type { Geometry } from '../../contract/schemas';
import { toBbox } from '../geometry/rle';
import { boxIou, type Bbox } from '../geometry/iou';

export interface ScoredDetection {
  classId: number;
  score: number;
  /** [x, y, w, h], for finding competing detections of other classes on the same object */
  bbox?: [number, number, number, number];
  /** full class distribution, when the model gives one */
  classProbs?: ArrayLike<number>;
}

export interface UncertaintyOptions {
  /** detections below this score are ignored (the store keeps what predict returned above its threshold) */
  minScore?: number;
  /** a detection at or above this score counts as confident */
  confident?: number;
}

export interface UncertaintyParts {
  entropy: number;
  margin: number;
  lowConfidence: number;
  /** detections considered (score ≥ minScore) */
  detections: number;
  confidentDetections: number;
}

export interface RankedImage {
  imageId: number;
  /** null: the image has no predictions from this model yet (predict it first); ranked last */
  score: number | null;
  parts: UncertaintyParts | null;
}

function binaryEntropy(s: number): number {
  const p = Math.min(1, Math.max(0, s));
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
}

function distEntropy(p: ArrayLike<number>): number {
  if (p.length < 2) return 0;
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += Math.max(0, p[i]);
  if (!(sum > 0)) return 0;
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.max(0, p[i]) / sum;
    if (q > 0) h -= q * Math.log2(q);
  }
  return h / Math.log2(p.length);
}

function runnerUp(p: ArrayLike<number>): number {
  let a = -Infinity;
  let b = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] > a) {
      b = Math.max(b, a);
      a = p[i];
    } else if (p[i] > b) b = p[i];
  }
  return Math.max(0, b);
}

/** The documented score (see the file comment) of one image's predictions. */
export function imageUncertainty(dets: readonly ScoredDetection[], opts: UncertaintyOptions = {}): { score: number; parts: UncertaintyParts } {
  const minScore = opts.minScore ?? 0.05;
  const confident = opts.confident ?? 0.5;
  for (const d of dets) {
    if (!(d.score >= 0 && d.score <= 1)) throw new Error(`uncertainty: detection score ${d.score} (class ${d.classId}) is not in [0, 1]`);
  }
  const kept = dets.filter((d) => d.score >= minScore).sort((a, b) => b.score - a.score);
  const ent = kept.map((d) => (d.classProbs && d.classProbs.length > 1 ? distEntropy(d.classProbs) : binaryEntropy(d.score)));
  const top = [...ent].sort((a, b) => b - a).slice(0, 3);
  const E = top.length ? top.reduce((a, b) => a + b, 0) / top.length : 0;
  let M = 1;
  if (kept.length) {
    const best = kept[0];
    let rival = 0;
    if (best.classProbs && best.classProbs.length > 1) rival = runnerUp(best.classProbs);
    else if (best.bbox) {
      for (const d of kept.slice(1)) if (d.classId !== best.classId && d.bbox && boxIou(best.bbox as Bbox, d.bbox as Bbox) >= 0.5) rival = Math.max(rival, d.score);
    }
    M = 1 - Math.max(0, best.score - rival);
  }
  const nLow = kept.filter((d) => d.score < confident).length;
  const L = nLow / (nLow + 2);
  const base = Math.min(1, Math.max(0, 0.4 * E + 0.3 * M + 0.3 * L));
  const nConf = kept.length - nLow;
  const score = nConf === 0 ? 0.75 + 0.25 * base : 0.75 * base;
  return { score, parts: { entropy: E, margin: M, lowConfidence: L, detections: kept.length, confidentDetections: nConf } };
}

/** Most informative first; images without predictions (null) last; ties by image id. */
export function rankForLabeling(images: readonly { imageId: number; detections: readonly ScoredDetection[] | null }[], opts: UncertaintyOptions = {}): RankedImage[] {
  const out: RankedImage[] = images.map((im) => {
    if (im.detections === null) return { imageId: im.imageId, score: null, parts: null };
    const r = imageUncertainty(im.detections, opts);
    return { imageId: im.imageId, score: r.score, parts: r.parts };
  });
  return out.sort((a, b) => {
    if (a.score === null || b.score === null) return a.score === null && b.score === null ? a.imageId - b.imageId : a.score === null ? 1 : -1;
    return b.score - a.score || a.imageId - b.imageId;
  });
}

export function geometryBox(g: Geometry): [number, number, number, number] | undefined {
  if (g.kind === 'box') return [g.x, g.y, g.w, g.h];
  if (g.kind === 'polygon') {
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    for (const ring of g.rings) {
      for (let i = 0; i + 1 < ring.length; i += 2) {
        x1 = Math.min(x1, ring[i]);
        x2 = Math.max(x2, ring[i]);
        y1 = Math.min(y1, ring[i + 1]);
        y2 = Math.max(y2, ring[i + 1]);
      }
    }
    return Number.isFinite(x1) ? [x1, y1, x2 - x1, y2 - y1] : undefined;
  }
  return toBbox(g.rle);
}

/**
 * The "label next" queue of a project: its unlabeled images ranked by the stored predictions of
 * `modelVersion` (e.g. the active model's id). `limit` cuts the list after ranking.
 */
export function labelNextQueue(
  store: {
    imageIds(q?: { status?: 'unlabeled' }): number[];
    listPredictions(imageId: number, modelVersion?: number): { classId: number; score: number; geometry: Geometry }[];
  },
  modelVersion: number,
  opts: UncertaintyOptions & { limit?: number; predictedIds?: ReadonlySet<number> } = {},
): RankedImage[] {
  const ids = store.imageIds({ status: 'unlabeled' });
  const images = ids.map((imageId) => {
    const preds = store.listPredictions(imageId, modelVersion);
    // an image predicted with no detections has no rows either: predictedIds says which were predicted
    const predicted = preds.length > 0 || (opts.predictedIds?.has(imageId) ?? false);
    return { imageId, detections: predicted ? preds.map((p) => ({ classId: p.classId, score: p.score, bbox: geometryBox(p.geometry) })) : null };
  });
  const ranked = rankForLabeling(images, opts);
  return opts.limit !== undefined ? ranked.slice(0, opts.limit) : ranked;
}
