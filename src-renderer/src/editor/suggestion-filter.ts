// Which suggestions the editor shows (issue 18): those at or above the confidence threshold, optionally with
// duplicates across classes merged (class-agnostic NMS: of two boxes overlapping by IoU ≥ 0.5, the higher
// score stays). It also counts what it hid and why, so the panel can say "81 hidden below 0.30".
import type { PredictionInfo } from '@contract/api';
import { geometryBounds, type Rect } from './geometry';

export interface SuggestionView {
  visible: PredictionInfo[];
  /** hidden because their score is below the threshold */
  belowThreshold: number;
  /** the highest score among those (what the threshold would have to drop to), or null */
  bestHidden: number | null;
  /** hidden as duplicates of a higher-scoring suggestion of another class */
  merged: number;
}

export function iou(a: Rect, b: Rect): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

export function viewSuggestions(items: readonly PredictionInfo[], opts: { threshold: number; classAgnostic?: boolean; iouThreshold?: number }): SuggestionView {
  const kept: PredictionInfo[] = [];
  let below = 0;
  let bestHidden: number | null = null;
  for (const p of items) {
    if (p.score >= opts.threshold) kept.push(p);
    else {
      below++;
      bestHidden = bestHidden === null ? p.score : Math.max(bestHidden, p.score);
    }
  }
  if (!opts.classAgnostic) return { visible: kept, belowThreshold: below, bestHidden, merged: 0 };
  const limit = opts.iouThreshold ?? 0.5;
  const order = [...kept].sort((a, b) => b.score - a.score);
  const chosen: { p: PredictionInfo; r: Rect }[] = [];
  for (const p of order) {
    const r = geometryBounds(p.geometry);
    if (!chosen.some((c) => iou(c.r, r) >= limit)) chosen.push({ p, r });
  }
  const ids = new Set(chosen.map((c) => c.p.id));
  return { visible: kept.filter((p) => ids.has(p.id)), belowThreshold: below, bestHidden, merged: kept.length - chosen.length };
}

/** The threshold that shows every suggestion: the lowest score, rounded down to the slider's 0.05 steps. */
export function thresholdShowingAll(items: readonly PredictionInfo[]): number {
  if (!items.length) return 0;
  const low = Math.min(...items.map((p) => p.score));
  return Math.max(0, Math.floor(low * 20 + 1e-9) / 20);
}

/** "12 hidden below confidence 0.30 (best 0.24) · 3 duplicates merged", or '' when nothing is hidden. */
export function hiddenHint(v: SuggestionView, threshold: number): string {
  const parts: string[] = [];
  if (v.belowThreshold) parts.push(`${v.belowThreshold} hidden below confidence ${threshold.toFixed(2)}${v.bestHidden !== null ? ` (best ${v.bestHidden.toFixed(2)})` : ''}`);
  if (v.merged) parts.push(`${v.merged} duplicate${v.merged === 1 ? '' : 's'} of another class merged`);
  return parts.join(' · ');
}
