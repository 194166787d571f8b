// Held-out evaluation of a TaskModel on a dataset split, in ORIGINAL image pixels: predictions are mapped back
// through each sample's letterbox transform and scored against the dataset's own annotations with the
// pycocotools-exact evaluator (box/mask AP), a confusion matrix (semantic mIoU incl. background) and
// accuracy (classification). A model trained on tiles is evaluated on its merged whole-photo predictions.
import type { Geometry, Rle } from '../../contract/schemas';
import type { Dataset } from '../datasets/types';
import { evaluateClassification, evaluateInstances, SemanticConfusion, type EvalObject, type EvalPrediction, type InstanceEvalResult, type SemanticMetrics } from './';
import { polygonsToRle } from '../geometry/rasterize';
import { decodeMask, toBbox } from '../geometry/rle';
import { createDataPipeline, type DataPipeline } from '../data/pipeline';
import type { Split } from '../../contract/schemas';
import type { TaskModelSpec } from '../task-model/model-spec';
import type { TaskModel } from '../task-model/task-model';
import type { ImagePrediction, PredictOptions } from './predict-all';
import { predictPipeline, type TilingOf } from './tiled-predict';

export { predictAll, type ImagePrediction, type PredictOptions } from './predict-all';

/** COCO summary numbers of one IoU type; `perClassAP50` in class order, null for a class without ground truth
 *  (their mean is AP50, as pycocotools averages it). */
export interface InstanceMetrics {
  AP: number;
  AP50: number;
  AP75: number;
  stats: number[];
  perClassAP50?: (number | null)[];
}

export interface EvalMetrics {
  images: number;
  bbox?: InstanceMetrics;
  segm?: InstanceMetrics | null;
  semantic?: { mIoU: number | null; perClassIoU: (number | null)[]; pixelAccuracy: number | null };
  classify?: { accuracy: number | null };
}

export interface EvalOutput {
  metrics: EvalMetrics;
  instances?: InstanceEvalResult;
  semantic?: SemanticMetrics;
  /** per evaluated image: dataset image index and the prediction (for `predict`) */
  predictions: ImagePrediction[];
}

export interface EvaluateOptions extends PredictOptions {
  /** keep predictions in the output (default true) */
  keepPredictions?: boolean;
  /**
   * The model was trained on tiles (a TaskModelSpec fits as is; `tiles` null or absent: it was not): `data` is then
   * a pipeline over the whole photos, each is predicted tile by tile and merged (tiled-predict.ts), and the metrics
   * compare the merged predictions with the whole photo's ground truth — what the user gets.
   */
  tiled?: TilingOf | null;
  /** tiled only: once per photo that could not be predicted (the whole-image pipeline warns through its own) */
  onWarning?: (message: string) => void;
}

function geometryRle(g: Geometry, h: number, w: number): Rle | null {
  if (g.kind === 'mask') return g.rle;
  if (g.kind === 'polygon') return polygonsToRle(g.rings, h, w);
  return null;
}

/**
 * Evaluates `model` on the images of `data` (a pipeline over the held-out split of `dataset`);
 * `classNames` is the model's training class order.
 */
export async function evaluateModel(model: TaskModel, dataset: Dataset, data: DataPipeline, classNames: readonly string[], opts: EvaluateOptions = {}): Promise<EvalOutput> {
  const predictions = await predictPipeline(model, dataset, data, opts);
  const classIndex = new Map(classNames.map((n, k) => [n, k]));
  const byKey = new Map<string, Dataset['annotations']>();
  for (const a of dataset.annotations) {
    let l = byKey.get(a.imageKey);
    if (!l) byKey.set(a.imageKey, (l = []));
    l.push(a);
  }
  const tasks = new Set([...model.tasks].filter((t) => !opts.only || opts.only.includes(t)));
  const metrics: EvalMetrics = { images: predictions.length };
  const result: EvalOutput = { metrics, predictions: opts.keepPredictions === false ? [] : predictions };

  if (tasks.has('detect')) {
    const images = predictions.map((p, i) => ({ id: i + 1, width: p.prediction.transform.origW, height: p.prediction.transform.origH }));
    const gts: EvalObject[] = [];
    const dts: EvalPrediction[] = [];
    predictions.forEach((p, i) => {
      for (const a of byKey.get(p.key) ?? []) {
        const k = classIndex.get(a.className);
        if (k === undefined) continue;
        gts.push({ imageId: i + 1, classId: k, geometry: tasks.has('instance') ? a.geometry : boxOnly(a.geometry, images[i]), iscrowd: a.iscrowd });
      }
      for (const o of p.prediction.objects ?? []) {
        const geometry: Geometry = o.rle ? { kind: 'mask', rle: o.rle } : { kind: 'box', x: o.bbox[0], y: o.bbox[1], w: o.bbox[2], h: o.bbox[3] };
        dts.push({ imageId: i + 1, classId: o.classIndex, score: o.score, geometry, box: o.bbox });
      }
    });
    const inst = evaluateInstances({ images, classIds: classNames.map((_, k) => k), groundTruth: gts, predictions: dts });
    result.instances = inst;
    const pick = (r: InstanceEvalResult['bbox']): InstanceMetrics => ({
      AP: r.summary.AP, AP50: r.summary.AP50, AP75: r.summary.AP75, stats: r.stats,
      perClassAP50: r.perClass.map((c) => (c.AP50 < 0 ? null : c.AP50)),
    });
    metrics.bbox = pick(inst.bbox);
    if (tasks.has('instance')) metrics.segm = inst.segm ? pick(inst.segm) : null;
  }

  if (tasks.has('semantic')) {
    const conf = new SemanticConfusion(classNames.length + 1, 255);
    for (const p of predictions) {
      const t = p.prediction.transform;
      const gt = semanticGroundTruth(byKey.get(p.key) ?? [], classIndex, t.origH, t.origW);
      conf.add(gt, p.prediction.semantic!, p.key);
    }
    const m = conf.metrics();
    result.semantic = m;
    metrics.semantic = { mIoU: m.mIoU, perClassIoU: m.perClassIoU, pixelAccuracy: m.pixelAccuracy };
  }

  if (tasks.has('classify')) {
    const gt: number[] = [];
    const pr: number[] = [];
    for (const p of predictions) {
      const cls = new Set((byKey.get(p.key) ?? []).map((a) => classIndex.get(a.className)).filter((k) => k !== undefined));
      if (cls.size !== 1 || !p.prediction.classProbs) continue; // image-level label: the sole class of its objects
      gt.push([...cls][0]!);
      const probs = p.prediction.classProbs;
      pr.push(probs.indexOf(Math.max(...probs)));
    }
    metrics.classify = { accuracy: gt.length ? evaluateClassification(gt, pr, classNames.length).accuracy : null };
  }
  return result;
}

/**
 * The metrics a user gets from a model version: its predictions on the whole photos of `dataset`'s `split`
 * (default val), cut into tiles and merged when the spec says it was trained on tiles, scored against the photos'
 * own labels. For the end of a training run on tiles: pass the original (untiled) dataset and the spec.
 */
export async function evaluateOnPhotos(model: TaskModel, dataset: Dataset, spec: Pick<TaskModelSpec, 'classes' | 'inputSize' | 'norm' | 'tiles'>, opts: EvaluateOptions & { split?: Split } = {}): Promise<EvalOutput> {
  const data = createDataPipeline({ dataset, classes: { names: spec.classes }, size: spec.inputSize, norm: spec.norm, seed: 0, split: opts.split ?? 'val', onWarning: opts.onWarning });
  return evaluateModel(model, dataset, data, spec.classes, { ...opts, tiled: spec });
}

function boxOnly(g: Geometry, im: { width: number; height: number }): Geometry {
  if (g.kind === 'box') return g;
  const rle = geometryRle(g, im.height, im.width);
  if (!rle) return g;
  const [x, y, w, h] = toBbox(rle);
  return { kind: 'box', x, y, w, h };
}

/** Row-major label map in original pixels: larger objects painted first; box-only objects are ignore (255). */
export function semanticGroundTruth(anns: Dataset['annotations'], classIndex: Map<string, number>, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  const painted: { label: number; bits: Uint8Array; area: number }[] = [];
  for (const a of anns) {
    const k = classIndex.get(a.className);
    if (k === undefined) continue;
    const g = a.geometry;
    if (g.kind === 'box') {
      for (let y = Math.max(0, Math.floor(g.y)); y < Math.min(h, Math.ceil(g.y + g.h)); y++)
        for (let x = Math.max(0, Math.floor(g.x)); x < Math.min(w, Math.ceil(g.x + g.w)); x++) out[y * w + x] = 255;
      continue;
    }
    const rle = geometryRle(g, h, w);
    if (!rle || rle.size[0] !== h || rle.size[1] !== w) continue;
    const bits = decodeMask(rle);
    let area = 0;
    for (let i = 0; i < bits.length; i++) area += bits[i];
    painted.push({ label: a.iscrowd ? 255 : k + 1, bits, area });
  }
  painted.sort((a, b) => b.area - a.area);
  for (const p of painted) {
    for (let i = 0; i < p.bits.length; i++) if (p.bits[i]) out[i] = p.label;
  }
  return out;
}
