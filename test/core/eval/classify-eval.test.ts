import { describe, expect, it } from 'vitest';
import { evaluateClassification } from '../../../src-main/core/eval/classify-eval';

describe('classification metrics', () => {
  it('computes accuracy, confusion and per-class precision/recall by hand', () => {
    // gt:   0 0 0 1 1 2
    // pred: 0 0 1 1 2 2
    // confusion rows=gt: [2,1,0] [0,1,1] [0,0,1]; accuracy 4/6.
    // class 0: P 2/2, R 2/3; class 1: P 1/2, R 1/2; class 2: P 1/2, R 1.
    const m = evaluateClassification([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.perClass.map((c) => c.precision)).toEqual([1, 0.5, 0.5]);
    expect(m.perClass[0].recall).toBeCloseTo(2 / 3, 12);
    expect(m.perClass.map((c) => c.support)).toEqual([3, 2, 1]);
    // F1: class 0 = 2*(1*2/3)/(5/3) = 0.8; class 1 = 0.5; class 2 = 2*(.5*1)/1.5 = 2/3.
    expect(m.perClass[0].f1).toBeCloseTo(0.8, 12);
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(m.balancedAccuracy).toBeCloseTo((2 / 3 + 0.5 + 1) / 3, 12);
  });

  it('marks precision of a never-predicted class and recall of an absent class as undefined', () => {
    const m = evaluateClassification([0, 0], [0, 0], 2);
    expect(m.perClass[1]).toEqual({ precision: null, recall: null, f1: null, support: 0 });
    expect(m.balancedAccuracy).toBe(1);
    expect(evaluateClassification([], [], 2).accuracy).toBeNull();
  });

  it('rejects bad labels naming the example', () => {
    expect(() => evaluateClassification([0, 3], [0, 0], 2)).toThrow(/example 1: ground-truth class 3/);
    expect(() => evaluateClassification([0], [0, 1], 2)).toThrow(/1 ground-truth labels but 2 predictions/);
  });
});
