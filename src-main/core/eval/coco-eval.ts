// COCO-style box and mask average precision with pycocotools' COCOeval semantics, step for step:
// evaluate (per image × class × area range greedy matching), accumulate (101-point interpolated precision)
// and summarize (the 12 standard numbers). Any deviation from COCOeval is a bug: results are meant to agree
// with pycocotools to float noise on the same inputs.
//
// Semantics worth knowing (all as in pycocotools):
// - Every listed image is evaluated, including images without ground truth (their detections are false
//   positives) and images without detections (their ground truths are misses).
// - Detections are sorted by score with a stable sort: ties keep input order within an image, and across
//   images the image with the smaller id comes first.
// - Per image and class, only the `maxDets[last]` (100) highest-scoring detections are considered at all.
// - A crowd ground truth never counts as a true positive: detections matched to it are ignored, it can absorb
//   any number of detections, and its IoU uses the detection's area as the union.
// - Area ranges use the ground truth's `area` (default: mask area, else box w·h); unmatched detections outside
//   the range are ignored. A detection's area is its box w·h when it has a box (pycocotools' loadRes takes the
//   box first), else its mask area.
// - Classes without (non-crowd) ground truth get -1 and are left out of every mean.
import type { Rle } from '../../contract/schemas';
import { checkCounts, countsFromString } from '../geometry/rle';
import { defaultCocoParams, type CocoParams } from './coco-params';
import { boxIouMatrix, maskIouMatrix, type IouMatrix, type RunMask, type Xywh } from './coco-iou';

export type { Xywh } from './coco-iou';
export type IouType = 'bbox' | 'segm';

export interface CocoGroundTruth {
  imageId: number;
  categoryId: number;
  /** Required for 'bbox' evaluation. */
  bbox?: Xywh;
  /** Required for 'segm' evaluation (compressed COCO RLE, size [h, w] of the image). */
  segmentation?: Rle;
  /** Object area for the area ranges; defaults to the mask area, else the box w·h. */
  area?: number;
  iscrowd?: boolean;
}

export interface CocoDetection {
  imageId: number;
  categoryId: number;
  score: number;
  bbox?: Xywh;
  segmentation?: Rle;
  /** Defaults to the box w·h if a box is given, else the mask area (as pycocotools' loadRes). */
  area?: number;
}

export interface CocoEvalOptions {
  iouType: IouType;
  /** Every image of the evaluated split, with or without ground truth. */
  imageIds: readonly number[];
  /** Every class of the dataset, with or without ground truth. */
  categoryIds: readonly number[];
  params?: Partial<CocoParams>;
}

export interface CocoSummary {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARs: number;
  ARm: number;
  ARl: number;
}

export const SUMMARY_KEYS: (keyof CocoSummary)[] = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];

export interface CocoClassResult {
  categoryId: number;
  /** Non-crowd ground truths of this class over the evaluated images. */
  numGt: number;
  numDt: number;
  /** -1 where the class has no non-crowd ground truth. */
  AP: number;
  AP50: number;
  AP75: number;
  AR100: number;
}

export interface CocoEvalResult {
  iouType: IouType;
  params: CocoParams;
  imageIds: number[];
  categoryIds: number[];
  /** Dimensions of `precision` [T, R, K, A, M] (row-major) and `recall` [T, K, A, M]. */
  dims: { T: number; R: number; K: number; A: number; M: number };
  precision: Float64Array;
  recall: Float64Array;
  /** pycocotools' `stats`, in the order of SUMMARY_KEYS. */
  stats: number[];
  summary: CocoSummary;
  perClass: CocoClassResult[];
  /** Detections on images or classes outside the evaluated lists (pycocotools filters them out too). */
  skippedDetections: number;
}

interface GtRec {
  id: number;
  area: number;
  iscrowd: boolean;
  box: Xywh | null;
  mask: RunMask | null;
}

interface DtRec {
  id: number;
  area: number;
  score: number;
  box: Xywh | null;
  mask: RunMask | null;
}

interface ImgEval {
  dtScores: number[];
  /** [T × D]: matched gt id or 0. */
  dtm: Int32Array;
  /** [T × D]: 1 where the detection is ignored. */
  dtIg: Uint8Array;
  gtIg: Uint8Array;
  D: number;
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function checkBox(b: unknown, where: string): Xywh {
  if (!Array.isArray(b) || b.length !== 4 || !b.every(isNum)) {
    throw new Error(`${where}: bbox must be [x, y, w, h] of 4 finite numbers, got ${JSON.stringify(b)}`);
  }
  if (b[2] < 0 || b[3] < 0) throw new Error(`${where}: bbox has a negative width or height (${b.join(', ')})`);
  return [b[0], b[1], b[2], b[3]];
}

function toRunMask(seg: unknown, where: string): RunMask {
  const s = seg as Rle;
  if (!s || typeof s !== 'object' || !Array.isArray(s.size) || s.size.length !== 2 || typeof s.counts !== 'string') {
    throw new Error(`${where}: segmentation must be a compressed COCO RLE {size: [h, w], counts: string}`);
  }
  const [h, w] = s.size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) {
    throw new Error(`${where}: segmentation size ${JSON.stringify(s.size)} is not [height, width]`);
  }
  let counts: number[];
  try {
    counts = countsFromString(s.counts);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const problem = checkCounts([h, w], counts);
  if (problem) throw new Error(`${where}: ${problem}`);
  let area = 0;
  for (let i = 1; i < counts.length; i += 2) area += counts[i];
  return { h, w, counts, area };
}

function uniqueSorted(ids: readonly number[], what: string): number[] {
  for (const id of ids) if (!isNum(id)) throw new Error(`${what} contains ${JSON.stringify(id)}, expected numbers`);
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** Stable sort of indices 0..n-1 by descending score (numpy argsort(-score, kind='mergesort')). */
function orderByScore(scores: readonly number[]): number[] {
  const idx = scores.map((_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a]); // Array.prototype.sort is stable
  return idx;
}

export function evaluateCoco(
  gts: readonly CocoGroundTruth[],
  dts: readonly CocoDetection[],
  opts: CocoEvalOptions,
): CocoEvalResult {
  const { iouType } = opts;
  if (iouType !== 'bbox' && iouType !== 'segm') throw new Error(`iouType must be 'bbox' or 'segm', got ${JSON.stringify(iouType)}`);
  const p: CocoParams = { ...defaultCocoParams(), ...opts.params };
  p.maxDets = [...p.maxDets].sort((a, b) => a - b);
  if (p.areaRng.length !== p.areaRngLbl.length) throw new Error('params: areaRng and areaRngLbl differ in length');
  if (p.maxDets.length !== 3 || !p.maxDets.every((m) => Number.isInteger(m) && m > 0)) {
    throw new Error(`params: maxDets must be three positive integers (the summary reads all three), got ${JSON.stringify(p.maxDets)}`);
  }
  const ascending = (xs: number[]) => xs.length > 0 && xs.every((v, i) => isNum(v) && (i === 0 || v > xs[i - 1]));
  if (!ascending(p.iouThrs) || p.iouThrs[0] <= 0 || p.iouThrs[p.iouThrs.length - 1] > 1) throw new Error('params: iouThrs must be ascending numbers in (0, 1]');
  if (!ascending(p.recThrs) || p.recThrs[0] < 0 || p.recThrs[p.recThrs.length - 1] > 1) throw new Error('params: recThrs must be ascending numbers in [0, 1]');
  const imgIds = uniqueSorted(opts.imageIds, 'imageIds');
  const catIds = uniqueSorted(opts.categoryIds, 'categoryIds');
  const I = imgIds.length;
  const K = catIds.length;
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const maxDetLast = p.maxDets[M - 1];
  const imgIdx = new Map(imgIds.map((id, i) => [id, i]));
  const catIdx = new Map(catIds.map((id, k) => [id, k]));

  // ---- prepare: group by (image, class) in input order
  const gtBy: GtRec[][] = Array.from({ length: I * K }, () => []);
  const dtBy: DtRec[][] = Array.from({ length: I * K }, () => []);
  gts.forEach((g, n) => {
    const where = `ground truth ${n} (image ${g?.imageId}, class ${g?.categoryId})`;
    if (!g || !isNum(g.imageId) || !isNum(g.categoryId)) throw new Error(`${where}: imageId and categoryId must be numbers`);
    const i = imgIdx.get(g.imageId);
    const k = catIdx.get(g.categoryId);
    if (i === undefined || k === undefined) return; // not part of this evaluation, as pycocotools' getAnnIds filter
    const box = g.bbox !== undefined ? checkBox(g.bbox, where) : null;
    const mask = g.segmentation !== undefined ? toRunMask(g.segmentation, where) : null;
    if (iouType === 'bbox' && !box) throw new Error(`${where}: box evaluation needs a bbox`);
    if (iouType === 'segm' && !mask) throw new Error(`${where}: mask evaluation needs a segmentation`);
    let area = g.area;
    if (area === undefined) area = mask ? mask.area : box![2] * box![3];
    if (!isNum(area) || area < 0) throw new Error(`${where}: area must be a non-negative number, got ${g.area}`);
    gtBy[i * K + k].push({ id: n + 1, area, iscrowd: !!g.iscrowd, box, mask });
  });
  let skipped = 0;
  dts.forEach((d, n) => {
    const where = `detection ${n} (image ${d?.imageId}, class ${d?.categoryId})`;
    if (!d || !isNum(d.imageId) || !isNum(d.categoryId)) throw new Error(`${where}: imageId and categoryId must be numbers`);
    if (!isNum(d.score)) throw new Error(`${where}: score must be a finite number, got ${d.score}`);
    const i = imgIdx.get(d.imageId);
    const k = catIdx.get(d.categoryId);
    if (i === undefined || k === undefined) {
      skipped++;
      return;
    }
    const box = d.bbox !== undefined ? checkBox(d.bbox, where) : null;
    const mask = d.segmentation !== undefined ? toRunMask(d.segmentation, where) : null;
    if (iouType === 'bbox' && !box) throw new Error(`${where}: box evaluation needs a bbox`);
    if (iouType === 'segm' && !mask) throw new Error(`${where}: mask evaluation needs a segmentation`);
    let area = d.area;
    if (area === undefined) area = box ? box[2] * box[3] : mask!.area;
    if (!isNum(area) || area < 0) throw new Error(`${where}: area must be a non-negative number, got ${d.area}`);
    dtBy[i * K + k].push({ id: n + 1, area, score: d.score, box, mask });
  });

  // ---- computeIoU: detections sorted by score and capped at maxDets[last]; ground truths in input order
  const sortedDt: DtRec[][] = new Array(I * K);
  const ious: (IouMatrix | null)[] = new Array(I * K).fill(null);
  for (let c = 0; c < I * K; c++) {
    const dt = dtBy[c];
    const gt = gtBy[c];
    const ord = orderByScore(dt.map((d) => d.score));
    const sd = ord.slice(0, maxDetLast).map((j) => dt[j]);
    sortedDt[c] = sd;
    if (sd.length === 0 || gt.length === 0) continue;
    const crowd = gt.map((g) => g.iscrowd);
    ious[c] =
      iouType === 'bbox'
        ? boxIouMatrix(sd.map((d) => d.box!), gt.map((g) => g.box!), crowd)
        : maskIouMatrix(sd.map((d) => d.mask!), gt.map((g) => g.mask!), crowd, (d, g) =>
            `detection ${sd[d].id - 1} vs ground truth ${gt[g].id - 1} on image ${imgIds[Math.floor(c / K)]}`);
  }

  // ---- evaluateImg for every class × area range × image (the layout accumulate indexes into)
  const evalImgs: (ImgEval | null)[] = new Array(K * A * I).fill(null);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const [lo, hi] = p.areaRng[a];
      for (let i = 0; i < I; i++) {
        const c = i * K + k;
        const gt0 = gtBy[c];
        const dt = sortedDt[c].slice(0, maxDetLast);
        if (gt0.length === 0 && dt.length === 0) continue;
        const ign0 = gt0.map((g) => (g.iscrowd || g.area < lo || g.area > hi ? 1 : 0));
        const gtind = gt0.map((_, j) => j).sort((x, y) => ign0[x] - ign0[y]); // stable: ignored last
        const gt = gtind.map((j) => gt0[j]);
        const gtIg = Uint8Array.from(gtind.map((j) => ign0[j]));
        const G = gt.length;
        const D = dt.length;
        const dtm = new Int32Array(T * D);
        const gtm = new Int32Array(T * G);
        const dtIg = new Uint8Array(T * D);
        const mat = ious[c];
        if (mat) {
          for (let t = 0; t < T; t++) {
            for (let d = 0; d < D; d++) {
              let iou = Math.min(p.iouThrs[t], 1 - 1e-10);
              let m = -1;
              const row = mat[d];
              for (let g = 0; g < G; g++) {
                if (gtm[t * G + g] > 0 && !gt[g].iscrowd) continue;
                if (m > -1 && gtIg[m] === 0 && gtIg[g] === 1) break;
                const v = row[gtind[g]];
                if (v < iou) continue;
                iou = v;
                m = g;
              }
              if (m === -1) continue;
              dtIg[t * D + d] = gtIg[m];
              dtm[t * D + d] = gt[m].id;
              gtm[t * G + m] = dt[d].id;
            }
          }
        }
        for (let d = 0; d < D; d++) {
          const out = dt[d].area < lo || dt[d].area > hi;
          if (!out) continue;
          for (let t = 0; t < T; t++) if (dtm[t * D + d] === 0) dtIg[t * D + d] = 1;
        }
        evalImgs[k * A * I + a * I + i] = { dtScores: dt.map((d) => d.score), dtm, dtIg, gtIg, D };
      }
    }
  }

  // ---- accumulate
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIdx = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;
  for (let k = 0; k < K; k++) {
    // Which images take part, and their detections' scores, do not depend on the area range (only ignore
    // flags do), so sort once per class. Restricting a stable order to a subset (the top-maxDet per image)
    // gives the stable order of that subset, so the smaller maxDets reuse it too.
    const imgs: number[] = [];
    for (let i = 0; i < I; i++) if (evalImgs[k * A * I + i]) imgs.push(i);
    if (imgs.length === 0) continue;
    let total = 0;
    for (const i of imgs) total += evalImgs[k * A * I + i]!.D;
    const scores = new Float64Array(total);
    const srcImg = new Int32Array(total); // position in imgs
    const srcDet = new Int32Array(total); // rank within its image
    let n = 0;
    imgs.forEach((i, e) => {
      const ev = evalImgs[k * A * I + i]!;
      for (let d = 0; d < ev.D; d++, n++) {
        scores[n] = ev.dtScores[d];
        srcImg[n] = e;
        srcDet[n] = d;
      }
    });
    // descending score, ties by concatenation position = numpy's stable argsort(-scores)
    const order = Uint32Array.from({ length: total }, (_, j) => j).sort((x, y) => scores[y] - scores[x] || x - y);
    const rc = new Float64Array(total);
    const pr = new Float64Array(total);
    for (let a = 0; a < A; a++) {
      const E = imgs.map((i) => evalImgs[k * A * I + a * I + i]!);
      let npig = 0;
      for (const ev of E) for (const v of ev.gtIg) if (v === 0) npig++;
      if (npig === 0) continue;
      for (let m = 0; m < M; m++) {
        const maxDet = p.maxDets[m];
        for (let t = 0; t < T; t++) {
          let tp = 0;
          let fp = 0;
          let nd = 0;
          for (let j = 0; j < total; j++) {
            const o = order[j];
            const d = srcDet[o];
            if (d >= maxDet) continue;
            const ev = E[srcImg[o]];
            if (!ev.dtIg[t * ev.D + d]) {
              if (ev.dtm[t * ev.D + d] !== 0) tp++;
              else fp++;
            }
            rc[nd] = tp / npig;
            pr[nd] = tp / (fp + tp + EPS);
            nd++;
          }
          recall[rIdx(t, k, a, m)] = nd ? rc[nd - 1] : 0;
          for (let j = nd - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
          // searchsorted(rc, recThrs, side='left'); thresholds beyond the reached recall get precision 0
          let j = 0;
          for (let r = 0; r < R; r++) {
            while (j < nd && rc[j] < p.recThrs[r]) j++;
            precision[pIdx(t, r, k, a, m)] = j < nd ? pr[j] : 0;
          }
        }
      }
    }
  }

  // ---- summarize
  const meanValid = (vals: Iterable<number>) => {
    let s = 0;
    let n = 0;
    for (const v of vals) {
      if (v > -1) {
        s += v;
        n++;
      }
    }
    return n === 0 ? -1 : s / n;
  };
  const tSel = (iouThr?: number) =>
    iouThr === undefined ? p.iouThrs.map((_, t) => t) : p.iouThrs.flatMap((v, t) => (v === iouThr ? [t] : []));
  const summarize = (ap: boolean, iouThr: number | undefined, areaLbl: string, maxDets: number, kSel?: number[]) => {
    const aind = p.areaRngLbl.flatMap((l, a) => (l === areaLbl ? [a] : []));
    const mind = p.maxDets.flatMap((v, m) => (v === maxDets ? [m] : []));
    const ks = kSel ?? catIds.map((_, k) => k);
    const vals: number[] = [];
    for (const t of tSel(iouThr)) {
      for (const k of ks) {
        for (const a of aind) {
          for (const m of mind) {
            if (ap) for (let r = 0; r < R; r++) vals.push(precision[pIdx(t, r, k, a, m)]);
            else vals.push(recall[rIdx(t, k, a, m)]);
          }
        }
      }
    }
    return meanValid(vals);
  };
  const md = p.maxDets;
  const stats = [
    summarize(true, undefined, 'all', 100),
    summarize(true, 0.5, 'all', md[2]),
    summarize(true, 0.75, 'all', md[2]),
    summarize(true, undefined, 'small', md[2]),
    summarize(true, undefined, 'medium', md[2]),
    summarize(true, undefined, 'large', md[2]),
    summarize(false, undefined, 'all', md[0]),
    summarize(false, undefined, 'all', md[1]),
    summarize(false, undefined, 'all', md[2]),
    summarize(false, undefined, 'small', md[2]),
    summarize(false, undefined, 'medium', md[2]),
    summarize(false, undefined, 'large', md[2]),
  ];
  const summary = Object.fromEntries(SUMMARY_KEYS.map((key, j) => [key, stats[j]])) as unknown as CocoSummary;

  const perClass: CocoClassResult[] = catIds.map((categoryId, k) => {
    let numGt = 0;
    let numDt = 0;
    for (let i = 0; i < I; i++) {
      for (const g of gtBy[i * K + k]) if (!g.iscrowd) numGt++;
      numDt += sortedDt[i * K + k].length;
    }
    return {
      categoryId,
      numGt,
      numDt,
      AP: summarize(true, undefined, 'all', 100, [k]),
      AP50: summarize(true, 0.5, 'all', md[2], [k]),
      AP75: summarize(true, 0.75, 'all', md[2], [k]),
      AR100: summarize(false, undefined, 'all', md[2], [k]),
    };
  });

  return {
    iouType,
    params: p,
    imageIds: imgIds,
    categoryIds: catIds,
    dims: { T, R, K, A, M },
    precision,
    recall,
    stats,
    summary,
    perClass,
    skippedDetections: skipped,
  };
}

/** The 12 summary lines in pycocotools' print format (for CLI output and logs). */
export function formatCocoSummary(res: CocoEvalResult): string {
  const p = res.params;
  const md = p.maxDets;
  const rows: [boolean, number | undefined, string, number][] = [
    [true, undefined, 'all', 100],
    [true, 0.5, 'all', md[2]],
    [true, 0.75, 'all', md[2]],
    [true, undefined, 'small', md[2]],
    [true, undefined, 'medium', md[2]],
    [true, undefined, 'large', md[2]],
    [false, undefined, 'all', md[0]],
    [false, undefined, 'all', md[1]],
    [false, undefined, 'all', md[2]],
    [false, undefined, 'small', md[2]],
    [false, undefined, 'medium', md[2]],
    [false, undefined, 'large', md[2]],
  ];
  const f2 = (x: number) => x.toFixed(2);
  return rows
    .map(([ap, thr, area, maxDets], j) => {
      const title = (ap ? 'Average Precision' : 'Average Recall').padEnd(18);
      const iou = (thr === undefined ? `${f2(p.iouThrs[0])}:${f2(p.iouThrs[p.iouThrs.length - 1])}` : f2(thr)).padEnd(9);
      return ` ${title} ${ap ? '(AP)' : '(AR)'} @[ IoU=${iou} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${res.stats[j].toFixed(3)}`;
    })
    .join('\n');
}
