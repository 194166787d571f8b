import { describe, expect, it } from 'vitest';
import { SemanticConfusion, evaluateSemantic } from '../../../src-main/core/eval/semantic-eval';
import { labelMapFromMasks } from '../../../src-main/core/eval/semantic-labels';
import { encodeMask } from '../../../src-main/core/geometry/rle';

describe('semantic segmentation metrics', () => {
  it('computes per-class IoU and mIoU from a hand-made pair, skipping the ignore label', () => {
    // 3 classes. gt:   0 0 1 1 2 255      pred: 0 1 1 1 0 2
    // class 0: TP 1 (pixel 0), FP 1 (pixel 4), FN 1 (pixel 1) -> 1/3
    // class 1: TP 2, FP 1 (pixel 1), FN 0 -> 2/3
    // class 2: TP 0, FP 0 (pixel 5 ignored), FN 1 -> 0
    // mIoU = (1/3 + 2/3 + 0)/3 = 1/3; pixel accuracy 3/5; mean accuracy (1/2 + 1 + 0)/3 = 1/2.
    const m = evaluateSemantic([{ gt: [0, 0, 1, 1, 2, 255], pred: [0, 1, 1, 1, 0, 2] }], 3);
    expect(m.perClassIoU[0]).toBeCloseTo(1 / 3, 12);
    expect(m.perClassIoU[1]).toBeCloseTo(2 / 3, 12);
    expect(m.perClassIoU[2]).toBe(0);
    expect(m.mIoU).toBeCloseTo(1 / 3, 12);
    expect(m.pixelAccuracy).toBeCloseTo(3 / 5, 12);
    expect(m.meanAccuracy).toBeCloseTo(1 / 2, 12);
    expect(m.pixels).toBe(5);
  });

  it('accumulates over images before dividing (not a mean of per-image IoUs)', () => {
    // Image A: class 1 perfect on 1 pixel. Image B: class 1 on 3 pixels, predicted 0 on all.
    // Accumulated class 1: TP 1, FN 3 -> 1/4 (per-image mean would be (1 + 0)/2).
    const conf = new SemanticConfusion(2);
    conf.add(Uint8Array.from([1, 0]), Uint8Array.from([1, 0]));
    conf.add(Uint8Array.from([1, 1, 1]), Uint8Array.from([0, 0, 0]));
    expect(conf.metrics().perClassIoU[1]).toBeCloseTo(1 / 4, 12);
  });

  it('leaves classes absent from ground truth and predictions out of the mean, but keeps predicted-only ones at 0', () => {
    const m = evaluateSemantic([{ gt: [0, 0, 1], pred: [0, 0, 1] }], 4);
    expect(m.perClassIoU).toEqual([1, 1, null, null]);
    expect(m.mIoU).toBe(1);
    const fp = evaluateSemantic([{ gt: [0, 0, 1], pred: [0, 3, 1] }], 4);
    // class 3 predicted once, never present: IoU 0 and counted; class 0: TP 1, FN 1 -> 1/2; class 1: 1.
    expect(fp.perClassIoU).toEqual([0.5, 1, null, 0]);
    expect(fp.mIoU).toBeCloseTo(1.5 / 3, 12);
  });

  it('all-ignored input gives null metrics rather than NaN', () => {
    const m = evaluateSemantic([{ gt: [255, 255], pred: [0, 1] }], 2);
    expect(m.mIoU).toBeNull();
    expect(m.pixelAccuracy).toBeNull();
  });

  it('rejects mismatched sizes and out-of-range labels with the image named', () => {
    expect(() => evaluateSemantic([{ gt: [0, 1], pred: [0], name: 'img 7' }], 2)).toThrow(/img 7: ground truth has 2 pixels but prediction has 1/);
    expect(() => evaluateSemantic([{ gt: [0, 5], pred: [0, 0], name: 'img 8' }], 2)).toThrow(/img 8: ground-truth label 5 at pixel 1/);
    expect(() => evaluateSemantic([{ gt: [0, 1], pred: [0, 2] }], 2)).toThrow(/predicted label 2/);
  });
});

describe('label maps from instance masks', () => {
  it('paints masks in order over the background and feeds the confusion matrix', () => {
    // 2x3 image; mask A (label 1) covers the left two columns, mask B (label 2) the middle column (wins there).
    const a = encodeMask([1, 1, 0, 1, 1, 0], 2, 3);
    const b = encodeMask([0, 1, 0, 0, 1, 0], 2, 3);
    const map = labelMapFromMasks([{ label: 1, rle: a }, { label: 2, rle: b }], 2, 3);
    expect(Array.from(map)).toEqual([1, 2, 0, 1, 2, 0]);
    expect(evaluateSemantic([{ gt: map, pred: map }], 3).mIoU).toBe(1);
    expect(() => labelMapFromMasks([{ label: 1, rle: a }], 3, 2)).toThrow(/mask 0: size 3x2 differs from the label map's 2x3/);
  });
});
