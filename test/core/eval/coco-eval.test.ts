// Hand-computed COCOeval cases. Each expected number is derived in the comment next to it from pycocotools'
// definitions: per class and area range, detections (all images, capped per image) are sorted by score;
// at each IoU threshold t: tp/fp cumulative sums over non-ignored detections, rc = tp/npig,
// pr = tp/(tp+fp+eps) made non-increasing from the right, and precision at recall threshold r_i = i*0.01
// is pr[first j with rc[j] >= r_i], or 0 if none. AP = mean over 10 thresholds × 101 recall points.
import { describe, expect, it } from 'vitest';
import { evaluateCoco, formatCocoSummary, type CocoDetection, type CocoGroundTruth, type Xywh } from '../../../src-main/core/eval/coco-eval';
import { defaultCocoParams } from '../../../src-main/core/eval/coco-params';
import { encodeMask } from '../../../src-main/core/geometry/rle';

const gt = (imageId: number, bbox: Xywh, categoryId = 1, extra: Partial<CocoGroundTruth> = {}): CocoGroundTruth => ({ imageId, categoryId, bbox, ...extra });
const dt = (imageId: number, bbox: Xywh, score: number, categoryId = 1): CocoDetection => ({ imageId, categoryId, bbox, score });
// pycocotools' precision is tp/(tp+fp+eps), so a perfect single hit is 1/(1+eps) = 1 - 2.2e-16: compare rounded.
const q = (x: number) => Math.round(x * 1e9) / 1e9;
const approx = <T extends object>(v: T): T =>
  (Array.isArray(v) ? v.map(q) : Object.fromEntries(Object.entries(v as Record<string, number>).map(([k, x]) => [k, q(x)]))) as T;
const box = (gts: CocoGroundTruth[], dts: CocoDetection[], imageIds: number[], categoryIds = [1]) =>
  evaluateCoco(gts, dts, { iouType: 'bbox', imageIds, categoryIds });

describe('COCO parameters', () => {
  it('reproduce numpy.linspace bit for bit, including its rounding', () => {
    const p = defaultCocoParams();
    expect(p.iouThrs).toHaveLength(10);
    expect(p.recThrs).toHaveLength(101);
    // numpy gives i*step + start: 0.9 comes out one ulp low, recall 0.35 one ulp high.
    expect(p.iouThrs[8]).toBe(0.8999999999999999);
    expect(p.iouThrs[5]).toBe(0.75);
    expect(p.recThrs[35]).toBe(0.35000000000000003);
    expect(p.recThrs[100]).toBe(1);
  });
});

describe('box AP, hand-computed', () => {
  it('perfect detections give 1 everywhere', () => {
    // One object per image and class, one area range each, all detected exactly: every stat is 1.
    const gts = [gt(1, [0, 0, 10, 10], 1), gt(1, [100, 100, 100, 100], 2), gt(2, [5, 5, 50, 50], 1), gt(2, [0, 0, 8, 8], 2)];
    const dts = gts.map((g, i) => dt(g.imageId, g.bbox!, 0.9 - i * 0.1, g.categoryId));
    const r = box(gts, dts, [1, 2], [1, 2]);
    expect(approx(r.stats)).toEqual(new Array(12).fill(1));
    expect(approx(r.perClass.map((c) => c.AP))).toEqual([1, 1]);
  });

  it('a false positive ranked above the true positive halves precision', () => {
    // Sorted: FP(.9), TP(.8). tp=[0,1] fp=[1,1] rc=[0,1] pr=[0,.5] -> monotone [.5,.5].
    // Every recall threshold finds precision .5 -> AP = AP50 = AP75 = .5 at every IoU (TP has IoU 1).
    // AR1: only the FP is kept -> recall 0. AR10 = AR100 = 1. GT area 400 is small: APs .5, APm/APl -1.
    const r = box([gt(1, [10, 10, 20, 20])], [dt(1, [60, 60, 20, 20], 0.9), dt(1, [10, 10, 20, 20], 0.8)], [1]);
    expect(approx(r.summary)).toEqual({ AP: 0.5, AP50: 0.5, AP75: 0.5, APs: 0.5, APm: -1, APl: -1, AR1: 0, AR10: 1, AR100: 1, ARs: 1, ARm: -1, ARl: -1 });
  });

  it('TP, FP, TP on two objects gives 253/303', () => {
    // tp=[1,1,2] fp=[0,1,1] rc=[.5,.5,1] pr=[1,.5,2/3] -> monotone [1,2/3,2/3].
    // recall thresholds 0..0.50 (51 of them, 50*0.01 == 0.5 exactly) -> 1; 0.51..1 (50) -> 2/3.
    // AP = (51 + 50*2/3)/101 = 253/303.
    const r = box(
      [gt(1, [0, 0, 10, 10]), gt(1, [50, 50, 10, 10])],
      [dt(1, [0, 0, 10, 10], 0.9), dt(1, [20, 20, 10, 10], 0.8), dt(1, [50, 50, 10, 10], 0.7)],
      [1],
    );
    expect(r.summary.AP).toBeCloseTo(253 / 303, 12);
    expect(r.summary.AP50).toBeCloseTo(253 / 303, 12);
    expect(q(r.summary.AR100)).toBe(1);
  });

  it('images without detections count their objects as misses; images without objects count detections as FPs', () => {
    // Image 1: detected (.9). Image 2: one object, no detection. Image 3: no object, no detection (no effect).
    // npig=2, rc=[.5], pr=[1]: thresholds 0..0.50 (51) -> 1, the rest beyond reach -> 0. AP = 51/101, AR = .5.
    const gts = [gt(1, [0, 0, 10, 10]), gt(2, [0, 0, 10, 10])];
    const r = box(gts, [dt(1, [0, 0, 10, 10], 0.9)], [1, 2, 3]);
    expect(r.summary.AP).toBeCloseTo(51 / 101, 12);
    expect(q(r.summary.AR100)).toBe(0.5);
    // Add an FP at .95 on image 3: sorted FP, TP -> rc=[0,.5] pr=[0,.5] -> [.5,.5]; 51 thresholds at .5.
    const r2 = box(gts, [dt(1, [0, 0, 10, 10], 0.9), dt(3, [0, 0, 10, 10], 0.95)], [1, 2, 3]);
    expect(r2.summary.AP).toBeCloseTo(25.5 / 101, 12);
    // No detections at all: precision 0 everywhere (not -1: the class has objects), recall 0.
    const r3 = box(gts, [], [1, 2, 3]);
    expect(q(r3.summary.AP)).toBe(0);
    expect(q(r3.summary.AR100)).toBe(0);
  });

  it('classes without ground truth are -1 and left out of the mean', () => {
    // Class 1 perfect (AP 1); class 2 only a detection; class 3 nothing; class 4 only a crowd region.
    // Mean over defined classes = 1 (not 1/4).
    const r = box(
      [gt(1, [0, 0, 10, 10], 1), gt(1, [50, 50, 40, 40], 4, { iscrowd: true })],
      [dt(1, [0, 0, 10, 10], 0.9, 1), dt(1, [30, 30, 10, 10], 0.8, 2), dt(1, [55, 55, 10, 10], 0.7, 4)],
      [1],
      [1, 2, 3, 4],
    );
    expect(q(r.summary.AP)).toBe(1);
    expect(approx(r.perClass.map((c) => c.AP))).toEqual([1, -1, -1, -1]);
    expect(r.perClass.map((c) => c.numGt)).toEqual([1, 0, 0, 0]);
    // With no ground truth at all, every stat is -1.
    expect(box([], [dt(1, [0, 0, 5, 5], 0.5)], [1]).stats).toEqual(new Array(12).fill(-1));
  });

  it('the class mean averages per-class APs', () => {
    // Class 1: perfect -> 1. Class 2: FP above TP -> .5. mAP = .75.
    const r = box(
      [gt(1, [0, 0, 10, 10], 1), gt(1, [0, 0, 10, 10], 2)],
      [dt(1, [0, 0, 10, 10], 0.9, 1), dt(1, [40, 40, 10, 10], 0.9, 2), dt(1, [0, 0, 10, 10], 0.8, 2)],
      [1],
      [1, 2],
    );
    expect(approx(r.perClass.map((c) => c.AP))).toEqual([1, 0.5]);
    expect(q(r.summary.AP)).toBe(0.75);
  });

  it('IoU exactly at a threshold matches it; thresholds follow numpy rounding', () => {
    const g = [gt(1, [0, 0, 10, 10])];
    // det [0,0,10,20]: inter 100, union 200 -> IoU .5: matches t=.5 only. AP = 1/10, AP50 1, AP75 0.
    const r50 = box(g, [dt(1, [0, 0, 10, 20], 0.9)], [1]);
    expect(r50.summary.AP).toBeCloseTo(0.1, 12);
    expect(approx([r50.summary.AP50, r50.summary.AP75])).toEqual([1, 0]);
    // det [0,0,10,9]: IoU 90/100 = .9 >= iouThrs[8] = 0.8999999999999999 -> matches 9 of 10 -> AP .9.
    const r90 = box(g, [dt(1, [0, 0, 10, 9], 0.9)], [1]);
    expect(r90.summary.AP).toBeCloseTo(0.9, 12);
    // GT 12x10, det 9x10 inside: IoU 90/120 = .75 -> matches .50..0.75 (6 of 10) -> AP .6, AP75 1.
    const r75 = box([gt(1, [0, 0, 12, 10])], [dt(1, [0, 0, 9, 10], 0.9)], [1]);
    expect(r75.summary.AP).toBeCloseTo(0.6, 12);
    expect(q(r75.summary.AP75)).toBe(1);
  });

  it('recall thresholds follow numpy rounding: recall 7/20 misses threshold 35*0.01', () => {
    // 20 objects, 7 found exactly with precision 1: rc = 1/20..7/20, pr = 1. 7/20 == 0.35 (as double)
    // but recThrs[35] = 0.35000000000000003 > 0.35, so thresholds 0..34 get 1 and 35..100 get 0:
    // AP = 35/101 (a naive 0.35 threshold would give 36/101).
    const gts = Array.from({ length: 20 }, (_, i) => gt(1, [(i % 5) * 20, Math.floor(i / 5) * 20, 10, 10]));
    const dts = gts.slice(0, 7).map((g, i) => dt(1, g.bbox!, 0.9 - i * 0.01));
    const r = box(gts, dts, [1]);
    expect(r.summary.AP).toBeCloseTo(35 / 101, 12);
    expect(q(r.summary.AR100)).toBe(0.35);
  });

  it('crowd regions absorb any number of detections without TPs or FPs', () => {
    // Regular object [10,10,20,20]; crowd region [50,50,100,100]. Two detections inside the crowd region
    // (IoU = inter / det area = 1), one of them ranked first. They are ignored: AP stays 1 with npig = 1.
    const gts = [gt(1, [10, 10, 20, 20]), gt(1, [50, 50, 100, 100], 1, { iscrowd: true })];
    const dts = [dt(1, [60, 60, 20, 20], 0.95), dt(1, [10, 10, 20, 20], 0.9), dt(1, [100, 100, 30, 30], 0.8)];
    const r = box(gts, dts, [1]);
    expect(q(r.summary.AP)).toBe(1);
    expect(r.perClass[0].numGt).toBe(1);
    // Without the crowd flag the region is a normal object: the first detection [60,60,20,20] has IoU
    // 400/10000 = .04 with it -> FP; .9 is a TP; .8 has IoU 900/10000 = .09 -> FP.
    // npig=2: tp=[0,1,1] fp=[1,1,2] rc=[0,.5,.5] pr=[0,.5,1/3] -> monotone [.5,.5,1/3];
    // thresholds 0..0.50 -> .5 (51), rest 0 -> AP = 25.5/101.
    const r2 = box([gts[0], { ...gts[1], iscrowd: false }], dts, [1]);
    expect(r2.summary.AP).toBeCloseTo(25.5 / 101, 12);
  });

  it('a detection prefers a regular object to a crowd region, and falls back to the crowd once the object is taken', () => {
    // Object A [0,0,10,10]; crowd region [0,0,100,100]. det1 = A exactly (.9) -> TP.
    // det2 = A exactly too (.8): A is taken, so it matches the crowd (IoU 1) -> ignored, not an FP. AP 1.
    const gts = [gt(1, [0, 0, 100, 100], 1, { iscrowd: true }), gt(1, [0, 0, 10, 10])];
    const r = box(gts, [dt(1, [0, 0, 10, 10], 0.9), dt(1, [0, 0, 10, 10], 0.8)], [1]);
    expect(q(r.summary.AP)).toBe(1);
    expect(q(r.summary.AR1)).toBe(1);
  });

  it('area ranges use ground-truth area, inclusive at both ends', () => {
    // Objects: small 10x10 (100), medium 40x40 (1600), large 100x100 (10000), and 32x32 = 1024, which lies
    // in both small and medium. Detected: small (.9), large (.8), 32x32 (.7); medium missed.
    const gts = [gt(1, [0, 0, 10, 10]), gt(1, [200, 0, 40, 40]), gt(1, [0, 200, 100, 100]), gt(1, [300, 300, 32, 32])];
    const dts = [dt(1, [0, 0, 10, 10], 0.9), dt(1, [0, 200, 100, 100], 0.8), dt(1, [300, 300, 32, 32], 0.7)];
    const r = box(gts, dts, [1]);
    // all: npig 4, tp=[1,2,3], rc=[.25,.5,.75], pr 1 -> thresholds 0..0.75 (76) -> AP 76/101; AR .75.
    expect(r.summary.AP).toBeCloseTo(76 / 101, 12);
    expect(q(r.summary.AR100)).toBe(0.75);
    // small: objects 100 and 1024 count (npig 2), both found; the large detection matches an ignored object
    // -> ignored. AP 1, AR 1.
    expect(approx([r.summary.APs, r.summary.ARs])).toEqual([1, 1]);
    // medium: objects 1600 and 1024 (npig 2). Sorted dets: small (matched to ignored gt -> ignored),
    // large (ignored), 32x32 TP -> counted dets: [TP] -> rc=[.5]; with the ignored ones in front:
    // tp=[0,0,1] fp=[0,0,0] rc=[0,0,.5] pr=[0,0,1] -> monotone [1,1,1]; thresholds 0..0.5 -> 1 -> 51/101.
    expect(r.summary.APm).toBeCloseTo(51 / 101, 12);
    expect(q(r.summary.ARm)).toBe(0.5);
    // large: the one large object found -> 1.
    expect(approx([r.summary.APl, r.summary.ARl])).toEqual([1, 1]);
  });

  it('unmatched detections outside an area range are ignored in it', () => {
    // Small object detected (.8); an unmatched large FP (.9) is ignored for "small" but counts for "all".
    const r = box([gt(1, [0, 0, 10, 10])], [dt(1, [100, 100, 200, 200], 0.9), dt(1, [0, 0, 10, 10], 0.8)], [1]);
    expect(q(r.summary.APs)).toBe(1);
    expect(q(r.summary.AP)).toBe(0.5);
  });

  it('maxDets caps detections per image for AR1/AR10/AR100, and 100 caps what is evaluated at all', () => {
    // 3 objects in one image, all found: AR1 = 1/3 (only the top detection), AR10 = AR100 = 1.
    const gts = [gt(1, [0, 0, 10, 10]), gt(1, [20, 0, 10, 10]), gt(1, [40, 0, 10, 10])];
    const r = box(gts, gts.map((g, i) => dt(1, g.bbox!, 0.9 - i * 0.1)), [1]);
    expect(r.summary.AR1).toBeCloseTo(1 / 3, 12);
    expect(approx([r.summary.AR10, r.summary.AR100])).toEqual([1, 1]);
    // 100 false positives above the only true positive: the TP is the 101st and is dropped -> AP 0, AR 0.
    const fps = Array.from({ length: 100 }, (_, i) => dt(1, [500 + i * 20, 500, 10, 10], 0.9));
    const r2 = box([gts[0]], [...fps, dt(1, [0, 0, 10, 10], 0.5)], [1]);
    expect(approx([r2.summary.AP, r2.summary.AR100])).toEqual([0, 0]);
    // With 99 FPs it is kept: sorted 99 FP then TP -> pr[99] = 1/100, rc reaches 1 only there -> AP .01.
    const r3 = box([gts[0]], [...fps.slice(0, 99), dt(1, [0, 0, 10, 10], 0.5)], [1]);
    expect(r3.summary.AP).toBeCloseTo(0.01, 12);
    expect(q(r3.summary.AR100)).toBe(1);
  });

  it('score ties keep input order within an image and image-id order across images', () => {
    const g = [gt(1, [0, 0, 10, 10])];
    // Same score: FP listed first -> FP ranks first -> AP .5; TP listed first -> AP 1.
    expect(q(box(g, [dt(1, [50, 50, 10, 10], 0.5), dt(1, [0, 0, 10, 10], 0.5)], [1]).summary.AP)).toBe(0.5);
    expect(q(box(g, [dt(1, [0, 0, 10, 10], 0.5), dt(1, [50, 50, 10, 10], 0.5)], [1]).summary.AP)).toBe(1);
    // Across images the smaller image id comes first, whatever the input order.
    // Object + TP on image 1, FP on image 2 (tie): TP first -> AP 1.
    const tpFirst = box(g, [dt(2, [0, 0, 10, 10], 0.5), dt(1, [0, 0, 10, 10], 0.5)], [2, 1]);
    expect(q(tpFirst.summary.AP)).toBe(1);
    // Object + TP on image 2, FP on image 1: FP first -> AP .5.
    const fpFirst = box([gt(2, [0, 0, 10, 10])], [dt(2, [0, 0, 10, 10], 0.5), dt(1, [0, 0, 10, 10], 0.5)], [2, 1]);
    expect(q(fpFirst.summary.AP)).toBe(0.5);
  });

  it('detections on images or classes outside the evaluation are skipped and counted', () => {
    const r = box([gt(1, [0, 0, 10, 10])], [dt(1, [0, 0, 10, 10], 0.9), dt(7, [0, 0, 10, 10], 0.99), dt(1, [0, 0, 10, 10], 0.99, 9)], [1]);
    expect(q(r.summary.AP)).toBe(1);
    expect(r.skippedDetections).toBe(2);
  });

  it('prints the pycocotools summary lines', () => {
    const r = box([gt(1, [10, 10, 20, 20])], [dt(1, [60, 60, 20, 20], 0.9), dt(1, [10, 10, 20, 20], 0.8)], [1]);
    const lines = formatCocoSummary(r).split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500');
    expect(lines[4]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000');
    expect(lines[6]).toBe(' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.000');
  });

  it('rejects malformed input with a message naming the record', () => {
    expect(() => box([gt(1, [0, 0, -1, 5])], [], [1])).toThrow(/ground truth 0 .*negative width/);
    expect(() => box([], [{ imageId: 1, categoryId: 1, bbox: [0, 0, 1, 1], score: NaN }], [1])).toThrow(/detection 0 .*score/);
    expect(() => box([{ imageId: 1, categoryId: 1 }], [], [1])).toThrow(/ground truth 0 .*needs a bbox/);
    expect(() =>
      evaluateCoco([{ imageId: 1, categoryId: 1, segmentation: { size: [2, 2], counts: '5' } }], [], { iouType: 'segm', imageIds: [1], categoryIds: [1] }),
    ).toThrow(/ground truth 0 .*sum to 5/);
    expect(() => evaluateCoco([], [], { iouType: 'bbox', imageIds: [1], categoryIds: [1], params: { maxDets: [1, 10] } })).toThrow(/maxDets must be three/);
    expect(() => evaluateCoco([], [], { iouType: 'bbox', imageIds: [1], categoryIds: [1], params: { iouThrs: [0.7, 0.5] } })).toThrow(/iouThrs must be ascending/);
  });
});

describe('mask AP, hand-computed', () => {
  const square = (h: number, w: number, x0: number, y0: number, sw: number, sh: number) => {
    const m = new Uint8Array(h * w);
    for (let y = y0; y < y0 + sh; y++) for (let x = x0; x < x0 + sw; x++) m[y * w + x] = 1;
    return encodeMask(m, h, w);
  };
  const segm = (gts: CocoGroundTruth[], dts: CocoDetection[], imageIds = [1]) => evaluateCoco(gts, dts, { iouType: 'segm', imageIds, categoryIds: [1] });

  it('mask IoU from runs: 4x4 squares shifted by one column overlap 12/20 = .6', () => {
    // Matches at .50, .55 and .60 (iouThrs[2] is the double 0.6) -> 3 of 10 -> AP .3, AP50 1, AP75 0.
    const r = segm([{ imageId: 1, categoryId: 1, segmentation: square(10, 10, 2, 2, 4, 4) }], [{ imageId: 1, categoryId: 1, score: 0.9, segmentation: square(10, 10, 3, 2, 4, 4) }]);
    expect(r.summary.AP).toBeCloseTo(0.3, 12);
    expect(approx([r.summary.AP50, r.summary.AP75])).toEqual([1, 0]);
  });

  it('identical masks give 1; a disjoint one gives 0', () => {
    const g = [{ imageId: 1, categoryId: 1, segmentation: square(20, 30, 5, 3, 10, 7) }];
    expect(q(segm(g, [{ imageId: 1, categoryId: 1, score: 0.5, segmentation: square(20, 30, 5, 3, 10, 7) }]).summary.AP)).toBe(1);
    expect(q(segm(g, [{ imageId: 1, categoryId: 1, score: 0.5, segmentation: square(20, 30, 20, 12, 5, 5) }]).summary.AP)).toBe(0);
  });

  it('crowd masks use the detection area as union', () => {
    // Crowd region covers the right half (area 50 of 100 pixels); a 3x3 detection inside it has IoU 9/9 = 1
    // and is ignored; the real object (2x2 on the left) is found -> AP 1.
    const gts: CocoGroundTruth[] = [
      { imageId: 1, categoryId: 1, segmentation: square(10, 10, 0, 0, 2, 2) },
      { imageId: 1, categoryId: 1, segmentation: square(10, 10, 5, 0, 5, 10), iscrowd: true },
    ];
    const dts: CocoDetection[] = [
      { imageId: 1, categoryId: 1, score: 0.9, segmentation: square(10, 10, 6, 6, 3, 3) },
      { imageId: 1, categoryId: 1, score: 0.8, segmentation: square(10, 10, 0, 0, 2, 2) },
    ];
    expect(q(segm(gts, dts).summary.AP)).toBe(1);
    // Not crowd: IoU 9/50 = .18 -> FP ranked first; 2 objects: tp=[0,1] rc=[0,.5] pr=[0,.5] -> 51 x .5 -> 25.5/101.
    expect(segm([gts[0], { ...gts[1], iscrowd: false }], dts).summary.AP).toBeCloseTo(25.5 / 101, 12);
  });

  it('masks of different sizes on one image are an error', () => {
    expect(() =>
      segm([{ imageId: 1, categoryId: 1, segmentation: square(10, 10, 0, 0, 2, 2) }], [{ imageId: 1, categoryId: 1, score: 0.9, segmentation: square(12, 10, 0, 0, 2, 2) }]),
    ).toThrow(/mask sizes differ/);
  });
});
