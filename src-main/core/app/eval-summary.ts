// What the Train and Models screens show of a model's evaluation: the stored COCO-style numbers (per-class box
// AP50 from the same evaluation as the overall AP50, so the classes average to it), plus a detection confusion
// matrix computed from the model's stored predictions on the val split.
import type { EvalSummary } from '../../contract/api';
import type { Annotation, Geometry } from '../../contract/schemas';
import { geometryBox } from '../active/uncertainty';

type Box = [number, number, number, number];

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]), y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]), y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const u = a[2] * a[3] + b[2] * b[3] - inter;
  return u > 0 ? inter / u : 0;
}

export interface ValImage {
  truth: Pick<Annotation, 'classId' | 'geometry'>[];
  preds: { classId: number; geometry: Geometry; score: number }[];
}

/**
 * Detection confusion at IoU 0.5 over predictions scoring ≥ `minScore`: rows = truth class, cols = predicted
 * class; the last row/col is background (a missed object, or a prediction matching nothing).
 */
export function confusion(images: readonly ValImage[], classIds: readonly number[], minScore = 0.3): number[][] {
  const n = classIds.length;
  const idx = new Map(classIds.map((c, i) => [c, i]));
  const m = Array.from({ length: n + 1 }, () => new Array<number>(n + 1).fill(0));
  for (const im of images) {
    const gts = im.truth.map((t) => ({ k: idx.get(t.classId), box: geometryBox(t.geometry) })).filter((g) => g.k !== undefined && g.box);
    const used = new Array<boolean>(gts.length).fill(false);
    for (const p of [...im.preds].filter((q) => q.score >= minScore).sort((a, b) => b.score - a.score)) {
      const pk = idx.get(p.classId);
      const box = geometryBox(p.geometry);
      if (pk === undefined || !box) continue;
      let best = -1, bestIou = 0.5;
      gts.forEach((g, k) => {
        const v = iou(box, g.box!);
        if (!used[k] && v >= bestIou) (best = k), (bestIou = v);
      });
      if (best >= 0) {
        used[best] = true;
        m[gts[best].k!][pk]++;
      } else m[n][pk]++;
    }
    gts.forEach((g, k) => {
      if (!used[k]) m[g.k!][n]++;
    });
  }
  return m;
}

/** The summary of a model version's stored metrics (plus `extra` per-class/confusion when computed). */
export function evalSummary(metrics: Record<string, unknown>, classNames: readonly string[]): EvalSummary | null {
  const bbox = metrics.bbox as { AP?: number; AP50?: number; perClassAP50?: (number | null)[] } | undefined;
  const segm = metrics.segm as { AP?: number; AP50?: number } | null | undefined;
  const sem = metrics.semantic as { mIoU?: number | null; perClassIoU?: (number | null)[] } | undefined;
  // versions stored before the evaluation kept per-class AP50 carry their own, computed from predictions
  const val = metrics.val as { perClassAp50?: (number | null)[]; confusion?: number[][] } | undefined;
  const perClassAp50 = bbox?.perClassAP50 ?? val?.perClassAp50;
  if (!bbox && !segm && !sem && !val) return null;
  // perClassIoU includes background at index 0 when it has one entry more than the classes
  const ious = sem?.perClassIoU ?? [];
  const off = ious.length === classNames.length + 1 ? 1 : 0;
  return {
    boxAP: num(bbox?.AP),
    boxAP50: num(bbox?.AP50),
    maskAP: num(segm?.AP),
    maskAP50: num(segm?.AP50),
    mIoU: num(sem?.mIoU),
    perClass: classNames.map((name, i) => ({ name, ap50: num(perClassAp50?.[i]), iou: num(ious[i + off]) })),
    confusion: val?.confusion ? { labels: [...classNames, 'background'], matrix: val.confusion } : null,
    images: num(metrics.images) ?? 0,
  };
}
