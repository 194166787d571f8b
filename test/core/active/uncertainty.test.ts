// The "label next" score on hand-made prediction sets: the documented formula, its order, and the store query.
import { describe, expect, it } from 'vitest';
import { imageUncertainty, labelNextQueue, rankForLabeling, type ScoredDetection } from '../../../src-main/core/active/uncertainty';

const det = (classId: number, score: number, bbox?: [number, number, number, number]): ScoredDetection => ({ classId, score, bbox });

describe('image uncertainty', () => {
  it('computes the documented score', () => {
    // one confident detection (0.9) and one low one (0.3), no rival
    const r = imageUncertainty([det(0, 0.9), det(1, 0.3)]);
    const h = (p: number) => -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    const E = (h(0.9) + h(0.3)) / 2;
    const M = 1 - 0.9;
    const L = 1 / 3;
    expect(r.parts.entropy).toBeCloseTo(E, 12);
    expect(r.parts.margin).toBeCloseTo(M, 12);
    expect(r.parts.lowConfidence).toBeCloseTo(L, 12);
    expect(r.score).toBeCloseTo(0.75 * (0.4 * E + 0.3 * M + 0.3 * L), 12);
  });

  it('puts images with no confident detection above every image with one, and empty predictions at the top band', () => {
    const none = imageUncertainty([]);
    expect(none.score).toBeCloseTo(0.75 + 0.25 * 0.3, 12); // E = 0, M = 1, L = 0
    const weak = imageUncertainty([det(0, 0.45), det(2, 0.2)]);
    const mixed = imageUncertainty([det(0, 0.55), det(1, 0.5, undefined), det(2, 0.45), det(2, 0.4), det(0, 0.3)]);
    expect(weak.score).toBeGreaterThanOrEqual(0.75);
    expect(mixed.score).toBeLessThan(0.75);
    for (const r of [none, weak, mixed]) expect(r.score).toBeGreaterThanOrEqual(0), expect(r.score).toBeLessThanOrEqual(1);
  });

  it('scores a confident, unambiguous image near 0 and a confused one higher', () => {
    const sure = imageUncertainty([det(0, 0.99), det(1, 0.97)]);
    expect(sure.score).toBeLessThan(0.1);
    // the same object claimed by two classes at 0.6 / 0.55: small margin
    const confused = imageUncertainty([det(0, 0.6, [10, 10, 20, 20]), det(1, 0.55, [11, 10, 20, 20])]);
    expect(confused.parts.margin).toBeCloseTo(1 - 0.05, 12);
    expect(confused.score).toBeGreaterThan(sure.score);
    // a different-class detection elsewhere in the image is no rival
    const apart = imageUncertainty([det(0, 0.6, [10, 10, 20, 20]), det(1, 0.55, [100, 100, 20, 20])]);
    expect(apart.parts.margin).toBeCloseTo(1 - 0.6, 12);
  });

  it('uses the class distribution when there is one', () => {
    const flat = imageUncertainty([{ classId: 0, score: 0.34, classProbs: [0.34, 0.33, 0.33] }]);
    const peaked = imageUncertainty([{ classId: 0, score: 0.99, classProbs: [0.99, 0.005, 0.005] }]);
    expect(flat.parts.entropy).toBeGreaterThan(0.99);
    expect(peaked.parts.entropy).toBeLessThan(0.1);
    expect(flat.parts.margin).toBeCloseTo(1 - 0.01, 12);
    expect(flat.score).toBeGreaterThan(peaked.score);
  });

  it('ignores detections under minScore and rejects scores outside [0, 1]', () => {
    expect(imageUncertainty([det(0, 0.01)]).parts.detections).toBe(0);
    expect(() => imageUncertainty([det(3, 1.5)])).toThrow(/score 1.5 \(class 3\)/);
  });
});

describe('label-next ranking', () => {
  it('orders by score, ties by id, unpredicted images last', () => {
    const ranked = rankForLabeling([
      { imageId: 5, detections: [det(0, 0.99)] },
      { imageId: 2, detections: null },
      { imageId: 3, detections: [] },
      { imageId: 1, detections: [] },
      { imageId: 4, detections: [det(0, 0.7), det(1, 0.3), det(2, 0.2)] },
    ]);
    expect(ranked.map((r) => r.imageId)).toEqual([1, 3, 4, 5, 2]);
    expect(ranked[4].score).toBeNull();
  });

  it('reads unlabeled images and one model version\'s predictions from the store', () => {
    const preds: Record<number, { classId: number; score: number; geometry: { kind: 'box'; x: number; y: number; w: number; h: number }; mv: number }[]> = {
      10: [{ classId: 0, score: 0.95, geometry: { kind: 'box', x: 0, y: 0, w: 5, h: 5 }, mv: 7 }],
      11: [{ classId: 0, score: 0.3, geometry: { kind: 'box', x: 0, y: 0, w: 5, h: 5 }, mv: 7 }, { classId: 0, score: 0.99, geometry: { kind: 'box', x: 0, y: 0, w: 5, h: 5 }, mv: 8 }],
    };
    const store = {
      imageIds: (q?: { status?: string }) => (q?.status === 'unlabeled' ? [10, 11, 12] : [1, 10, 11, 12]),
      listPredictions: (id: number, mv?: number) => (preds[id] ?? []).filter((p) => mv === undefined || p.mv === mv),
    };
    const q = labelNextQueue(store, 7, { predictedIds: new Set([10, 11, 12]) });
    // 11 (one weak detection) is less sure than 12 (predicted, nothing found), which is less sure than 10 (0.95)
    expect(q.map((r) => r.imageId)).toEqual([11, 12, 10]);
    const q2 = labelNextQueue(store, 7, { limit: 2 });
    expect(q2.map((r) => r.imageId)).toEqual([11, 10]); // 12 has no stored predictions and was not said to be predicted: not ranked above
  });
});
