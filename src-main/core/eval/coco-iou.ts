// IoU between detections and ground truths exactly as pycocotools' maskApi (bbIou / rleIou):
// for a crowd ground truth the union is the detection's own area, so a detection lying inside a crowd
// region scores 1 however large the region is.

export type Xywh = [number, number, number, number];

/** Row d, column g: IoU of detection d with ground truth g. */
export type IouMatrix = Float64Array[];

export function boxIouMatrix(dts: readonly Xywh[], gts: readonly Xywh[], iscrowd: readonly boolean[]): IouMatrix {
  const out: IouMatrix = [];
  for (let d = 0; d < dts.length; d++) {
    const D = dts[d];
    const da = D[2] * D[3];
    const row = new Float64Array(gts.length);
    for (let g = 0; g < gts.length; g++) {
      const G = gts[g];
      const w = Math.min(D[2] + D[0], G[2] + G[0]) - Math.max(D[0], G[0]);
      if (w <= 0) continue;
      const h = Math.min(D[3] + D[1], G[3] + G[1]) - Math.max(D[1], G[1]);
      if (h <= 0) continue;
      const i = w * h;
      const u = iscrowd[g] ? da : da + G[2] * G[3] - i;
      row[g] = i / u;
    }
    out.push(row);
  }
  return out;
}

/** A decoded COCO RLE: [height, width] and the alternating 0/1 run lengths (column-major, starting with 0s). */
export interface RunMask {
  h: number;
  w: number;
  counts: number[];
  area: number;
}

/** Intersection and union pixel counts of two same-size run masks, walking both run lists once. */
function interUnion(a: RunMask, b: RunMask): [number, number] {
  if (a.counts.length === 0 || b.counts.length === 0) return [0, 0];
  let ia = 0;
  let ib = 0;
  let ca = a.counts[0];
  let cb = b.counts[0];
  let va = false;
  let vb = false;
  let inter = 0;
  let union = 0;
  for (;;) {
    const c = Math.min(ca, cb);
    if (va || vb) {
      union += c;
      if (va && vb) inter += c;
    }
    ca -= c;
    cb -= c;
    let moved = false;
    if (ca === 0 && ia + 1 < a.counts.length) {
      ca = a.counts[++ia];
      va = !va;
      moved = true;
    }
    if (cb === 0 && ib + 1 < b.counts.length) {
      cb = b.counts[++ib];
      vb = !vb;
      moved = true;
    }
    if (ca + cb === 0 || (c === 0 && !moved)) break;
  }
  return [inter, union];
}

export function maskIouMatrix(
  dts: readonly RunMask[],
  gts: readonly RunMask[],
  iscrowd: readonly boolean[],
  describe: (d: number, g: number) => string,
): IouMatrix {
  const out: IouMatrix = [];
  for (let d = 0; d < dts.length; d++) {
    const D = dts[d];
    const row = new Float64Array(gts.length);
    for (let g = 0; g < gts.length; g++) {
      const G = gts[g];
      if (D.h !== G.h || D.w !== G.w) {
        throw new Error(`${describe(d, g)}: mask sizes differ (${D.h}x${D.w} vs ${G.h}x${G.w}); masks of one image must share its size`);
      }
      const [i, u] = interUnion(D, G);
      if (i === 0) continue;
      row[g] = i / (iscrowd[g] ? D.area : u);
    }
    out.push(row);
  }
  return out;
}
