// COCOeval's default parameters, built with the same floating-point arithmetic as numpy.linspace so that
// comparisons against thresholds (IoU >= t, recall searchsorted) break exactly where pycocotools breaks.
// (e.g. recall threshold 35 is 35*0.01 = 0.35000000000000003, not 0.35; IoU threshold 8 is 0.8999999999999999.)

export interface CocoParams {
  /** IoU thresholds, ascending. */
  iouThrs: number[];
  /** Recall thresholds at which interpolated precision is sampled, ascending. */
  recThrs: number[];
  /** Max detections per image, ascending (the last one also caps detections per image and class). */
  maxDets: number[];
  /** [min, max] object area, both inclusive. */
  areaRng: [number, number][];
  areaRngLbl: string[];
}

/** numpy.linspace(start, stop, num) with endpoint=True, reproduced operation by operation. */
export function linspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const step = (stop - start) / div;
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

export function defaultCocoParams(): CocoParams {
  return {
    iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
    recThrs: linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1),
    maxDets: [1, 10, 100],
    areaRng: [
      [0, 1e5 ** 2],
      [0, 32 ** 2],
      [32 ** 2, 96 ** 2],
      [96 ** 2, 1e5 ** 2],
    ],
    areaRngLbl: ['all', 'small', 'medium', 'large'],
  };
}
