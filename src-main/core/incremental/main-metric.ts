// The one number an incremental update must not make worse, per task set: box AP50 when the model detects,
// else semantic mIoU, else classification accuracy. All are fractions in [0, 1]; null when the val split
// cannot measure it (no val images, or no ground truth of the model's classes).
import type { EvalMetrics } from '../eval/evaluate-model';
import type { TaskName } from '../task-model/task-model';

export interface MainMetric {
  name: 'bbox.AP50' | 'semantic.mIoU' | 'classify.accuracy';
  value: number | null;
}

export function mainMetric(m: EvalMetrics): MainMetric {
  const ok = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  if (m.bbox) return { name: 'bbox.AP50', value: ok(m.bbox.AP50) };
  if (m.semantic) return { name: 'semantic.mIoU', value: ok(m.semantic.mIoU) };
  return { name: 'classify.accuracy', value: ok(m.classify?.accuracy) };
}

/**
 * The tasks an update must evaluate to get its main metric: detection alone when the model detects (instance
 * masks and semantic maps are most of an evaluation's time and do not decide the promotion).
 */
export function mainMetricTasks(tasks: ReadonlySet<TaskName>): TaskName[] {
  if (tasks.has('detect')) return ['detect'];
  if (tasks.has('semantic')) return ['semantic'];
  return ['classify'];
}

/** Promotion rule: not worse than the previous model by more than epsilon; unmeasurable counts as not worse. */
export function promotionDecision(next: MainMetric, prev: MainMetric, epsilon: number): { promoted: boolean; reason: string } {
  const fmt = (v: number) => (100 * v).toFixed(1);
  if (next.value === null || prev.value === null) {
    return { promoted: true, reason: `${next.name} cannot be measured on the val split (no labelled val images with these classes); promoted without a comparison` };
  }
  if (next.value >= prev.value - epsilon) {
    return { promoted: true, reason: `${next.name} ${fmt(next.value)} vs ${fmt(prev.value)} before (allowed drop ${fmt(epsilon)})` };
  }
  return { promoted: false, reason: `${next.name} dropped from ${fmt(prev.value)} to ${fmt(next.value)} (more than the allowed ${fmt(epsilon)}); kept as a candidate, the active model is unchanged` };
}
