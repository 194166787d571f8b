// Semantic segmentation metrics from a pixel confusion matrix, accumulated image by image so that a whole
// split never has to sit in memory. IoU_c = TP / (TP + FP + FN); a class that is absent from both the
// ground truth and the predictions of every image has no IoU (null) and is left out of the mean (nanmean,
// as mmseg and torchmetrics do). A class predicted but never present gets IoU 0 and counts.

export interface SemanticMetrics {
  /** Mean IoU over classes with a defined IoU; null if no class has one. */
  mIoU: number | null;
  perClassIoU: (number | null)[];
  /** Correct pixels / counted (non-ignored) pixels; null if nothing was counted. */
  pixelAccuracy: number | null;
  /** Per-class recall TP / (TP + FN), averaged over classes present in the ground truth. */
  meanAccuracy: number | null;
  /** Non-ignored pixels counted. */
  pixels: number;
}

export class SemanticConfusion {
  /** Row = ground-truth class, column = predicted class. */
  readonly matrix: Float64Array;

  constructor(readonly numClasses: number, readonly ignoreLabel = 255) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be a positive integer, got ${numClasses}`);
    this.matrix = new Float64Array(numClasses * numClasses);
  }

  /**
   * Adds one label map pair of the same length. Pixels whose ground truth is the ignore label are skipped;
   * any other label outside [0, numClasses) is an error naming the image and pixel.
   */
  add(gt: ArrayLike<number>, pred: ArrayLike<number>, what = 'label map'): void {
    const n = this.numClasses;
    if (gt.length !== pred.length) {
      throw new Error(`${what}: ground truth has ${gt.length} pixels but prediction has ${pred.length}`);
    }
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i];
      if (g === this.ignoreLabel) continue;
      const q = pred[i];
      if (!(g >= 0 && g < n && Number.isInteger(g))) throw new Error(`${what}: ground-truth label ${g} at pixel ${i} is not a class in 0..${n - 1} or the ignore label ${this.ignoreLabel}`);
      if (!(q >= 0 && q < n && Number.isInteger(q))) throw new Error(`${what}: predicted label ${q} at pixel ${i} is not a class in 0..${n - 1}`);
      this.matrix[g * n + q]++;
    }
  }

  metrics(): SemanticMetrics {
    const n = this.numClasses;
    const m = this.matrix;
    const perClassIoU: (number | null)[] = [];
    let iouSum = 0;
    let iouN = 0;
    let accSum = 0;
    let accN = 0;
    let correct = 0;
    let total = 0;
    for (let c = 0; c < n; c++) {
      const tp = m[c * n + c];
      let rowSum = 0;
      let colSum = 0;
      for (let j = 0; j < n; j++) {
        rowSum += m[c * n + j];
        colSum += m[j * n + c];
      }
      const denom = rowSum + colSum - tp;
      const iou = denom > 0 ? tp / denom : null;
      perClassIoU.push(iou);
      if (iou !== null) {
        iouSum += iou;
        iouN++;
      }
      if (rowSum > 0) {
        accSum += tp / rowSum;
        accN++;
      }
      correct += tp;
      total += rowSum;
    }
    return {
      mIoU: iouN ? iouSum / iouN : null,
      perClassIoU,
      pixelAccuracy: total ? correct / total : null,
      meanAccuracy: accN ? accSum / accN : null,
      pixels: total,
    };
  }
}

/** One-shot helper over a list of (ground truth, prediction) label maps. */
export function evaluateSemantic(
  pairs: Iterable<{ gt: ArrayLike<number>; pred: ArrayLike<number>; name?: string }>,
  numClasses: number,
  ignoreLabel = 255,
): SemanticMetrics {
  const conf = new SemanticConfusion(numClasses, ignoreLabel);
  let i = 0;
  for (const { gt, pred, name } of pairs) conf.add(gt, pred, name ?? `label map ${i}`), i++;
  return conf.metrics();
}
