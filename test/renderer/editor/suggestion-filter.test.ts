import { describe, expect, it } from 'vitest';
import type { PredictionInfo } from '../../../src-main/contract/api';
import { hiddenHint, iou, thresholdShowingAll, viewSuggestions } from '../../../src-renderer/src/editor/suggestion-filter';

const pred = (id: number, classId: number, score: number, x: number, w = 100): PredictionInfo =>
  ({ id, imageId: 1, classId, score, modelVersion: 1, geometry: { kind: 'box', x, y: 0, w, h: 100 } }) as PredictionInfo;

describe('suggestion view', () => {
  it('says how many the threshold hides and by what, instead of an empty list with no reason', () => {
    const items = Array.from({ length: 81 }, (_, i) => pred(i + 1, 1, 0.05 + (i % 20) / 100, i * 10)); // all < 0.3
    const v = viewSuggestions(items, { threshold: 0.3 });
    expect(v.visible).toEqual([]);
    expect(v.belowThreshold).toBe(81);
    expect(hiddenHint(v, 0.3)).toBe('81 hidden below confidence 0.30 (best 0.24)');
    const t = thresholdShowingAll(items);
    expect(t).toBe(0.05);
    expect(viewSuggestions(items, { threshold: t }).visible).toHaveLength(81);
    expect(hiddenHint(viewSuggestions(items, { threshold: t }), t)).toBe('');
  });

  it('merges duplicates across classes only when asked (class-agnostic NMS keeps the higher score)', () => {
    const items = [pred(1, 1, 0.9, 0), pred(2, 2, 0.6, 5), pred(3, 2, 0.8, 300), pred(4, 1, 0.7, 303)];
    expect(viewSuggestions(items, { threshold: 0.5 }).visible.map((p) => p.id)).toEqual([1, 2, 3, 4]);
    const v = viewSuggestions(items, { threshold: 0.5, classAgnostic: true });
    expect(v.visible.map((p) => p.id)).toEqual([1, 3]);
    expect(v.merged).toBe(2);
    expect(hiddenHint(v, 0.5)).toBe('2 duplicates of another class merged');
    // boxes that merely touch stay apart
    expect(viewSuggestions([pred(1, 1, 0.9, 0), pred(2, 2, 0.8, 60)], { threshold: 0, classAgnostic: true }).visible).toHaveLength(2);
  });

  it('computes IoU', () => {
    expect(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 0, y: 0, w: 10, h: 10 })).toBe(1);
    expect(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 0, w: 10, h: 10 })).toBeCloseTo(1 / 3);
    expect(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 20, y: 0, w: 10, h: 10 })).toBe(0);
  });
});
