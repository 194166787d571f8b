// Image classification metrics: accuracy, per-class precision / recall / F1 and the confusion matrix.
// Precision is undefined (null) for a class never predicted, recall for a class never present; means are
// taken over the defined values only.

export interface ClassMetrics {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Ground-truth examples of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number | null;
  /** Mean recall over classes present in the ground truth. */
  balancedAccuracy: number | null;
  macroF1: number | null;
  perClass: ClassMetrics[];
  /** confusion[gt][pred] counts. */
  confusion: number[][];
  count: number;
}

export function evaluateClassification(gt: ArrayLike<number>, pred: ArrayLike<number>, numClasses: number): ClassificationMetrics {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be a positive integer, got ${numClasses}`);
  if (gt.length !== pred.length) throw new Error(`${gt.length} ground-truth labels but ${pred.length} predictions`);
  const n = numClasses;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < gt.length; i++) {
    const g = gt[i];
    const q = pred[i];
    if (!(Number.isInteger(g) && g >= 0 && g < n)) throw new Error(`example ${i}: ground-truth class ${g} is not in 0..${n - 1}`);
    if (!(Number.isInteger(q) && q >= 0 && q < n)) throw new Error(`example ${i}: predicted class ${q} is not in 0..${n - 1}`);
    confusion[g][q]++;
  }
  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < n; c++) {
    const tp = confusion[c][c];
    correct += tp;
    const support = confusion[c].reduce((s, v) => s + v, 0);
    let predicted = 0;
    for (let r = 0; r < n; r++) predicted += confusion[r][c];
    const precision = predicted ? tp / predicted : null;
    const recall = support ? tp / support : null;
    const f1 = precision === null || recall === null ? null : precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
  }
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
  };
  return {
    accuracy: gt.length ? correct / gt.length : null,
    balancedAccuracy: mean(perClass.map((c) => c.recall)),
    macroF1: mean(perClass.filter((c) => c.support > 0).map((c) => c.f1 ?? 0)),
    perClass,
    confusion,
    count: gt.length,
  };
}
