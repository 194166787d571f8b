// FCOS inference: score = √(σ(cls) · σ(centerness)), keep locations whose class probability passes the threshold,
// the best preNmsTopK candidates, boxes (x−l, y−t, x+r, y+b) clipped to the image, class-wise NMS (boxes of
// different classes are shifted apart so one NMS call never suppresses across classes), top-k.
import { tf } from '../compute/engine';
import type { FcosOutputs } from './fcos-head';
import { locationsFor, type LevelShape } from './fcos-targets';

export interface FcosDecodeOptions {
  /** Minimum σ(cls) of a candidate (FCOS pre_nms_thresh); 0.05. */
  scoreThreshold?: number;
  /** Candidates per image entering NMS; 1000. */
  preNmsTopK?: number;
  nmsIouThreshold?: number; // 0.6
  maxDetections?: number; // 100
  /** [H, W] of the network input: boxes are clipped to it. */
  imageSize?: readonly [number, number];
  /** Suppress across classes too. */
  classAgnostic?: boolean;
}

/** One image's detections, best first, in network-input pixels. */
export interface Detections {
  /** [n*4] x1,y1,x2,y2 */
  boxes: Float32Array;
  /** [n] final score √(σ(cls)·σ(ctr)) */
  scores: Float32Array;
  /** [n] class index 0..K-1 */
  labels: Int32Array;
  /** [n] location index into the head's N (CondInst uses it to pick the dynamic filters) */
  locations: Int32Array;
}

export async function decodeFcos(out: Pick<FcosOutputs, 'cls' | 'box' | 'ctr' | 'levels'>, opts: FcosDecodeOptions = {}): Promise<Detections[]> {
  const thr = opts.scoreThreshold ?? 0.05;
  const preK = opts.preNmsTopK ?? 1000;
  const iou = opts.nmsIouThreshold ?? 0.6;
  const maxDet = opts.maxDetections ?? 100;
  const [B, N, K] = out.cls.shape;
  const [probs, ctrs, dists] = tf.tidy(() => [tf.sigmoid(out.cls), tf.sigmoid(out.ctr), out.box.clone()]);
  const p = (await probs.data()) as Float32Array;
  const c = (await ctrs.data()) as Float32Array;
  const d = (await dists.data()) as Float32Array;
  probs.dispose();
  ctrs.dispose();
  dists.dispose();
  const locs = locationsFor(out.levels as LevelShape[]);
  const results: Detections[] = [];
  for (let b = 0; b < B; b++) {
    // candidates (location, class) above threshold
    const cand: { loc: number; cls: number; score: number }[] = [];
    for (let k = 0; k < N; k++) {
      const base = (b * N + k) * K;
      for (let j = 0; j < K; j++) {
        const pr = p[base + j];
        if (pr > thr) cand.push({ loc: k, cls: j, score: Math.sqrt(pr * c[b * N + k]) });
      }
    }
    cand.sort((a, z) => z.score - a.score);
    if (cand.length > preK) cand.length = preK;
    const n = cand.length;
    const boxes = new Float32Array(n * 4);
    let maxCoord = 0;
    cand.forEach((q, i) => {
      const x = locs[2 * q.loc], y = locs[2 * q.loc + 1];
      const o = (b * N + q.loc) * 4;
      let x1 = x - d[o], y1 = y - d[o + 1], x2 = x + d[o + 2], y2 = y + d[o + 3];
      if (opts.imageSize) {
        const [H, W] = opts.imageSize;
        x1 = Math.min(Math.max(x1, 0), W);
        x2 = Math.min(Math.max(x2, 0), W);
        y1 = Math.min(Math.max(y1, 0), H);
        y2 = Math.min(Math.max(y2, 0), H);
      }
      boxes.set([x1, y1, x2, y2], 4 * i);
      maxCoord = Math.max(maxCoord, Math.abs(x1), Math.abs(y1), Math.abs(x2), Math.abs(y2));
    });
    let keep: Int32Array = new Int32Array(0);
    if (n > 0) {
      // tfjs NMS wants [y1,x1,y2,x2]; shift each class into its own coordinate range
      const shifted = new Float32Array(n * 4);
      const span = maxCoord + 1;
      cand.forEach((q, i) => {
        const off = opts.classAgnostic ? 0 : q.cls * span * 2;
        shifted[4 * i] = boxes[4 * i + 1] + off;
        shifted[4 * i + 1] = boxes[4 * i] + off;
        shifted[4 * i + 2] = boxes[4 * i + 3] + off;
        shifted[4 * i + 3] = boxes[4 * i + 2] + off;
      });
      const bt = tf.tensor2d(shifted, [n, 4]);
      const st = tf.tensor1d(cand.map((q) => q.score));
      const sel = await tf.image.nonMaxSuppressionAsync(bt, st, maxDet, iou);
      keep = (await sel.data()) as Int32Array;
      bt.dispose();
      st.dispose();
      sel.dispose();
    }
    const m = keep.length;
    const det: Detections = { boxes: new Float32Array(m * 4), scores: new Float32Array(m), labels: new Int32Array(m), locations: new Int32Array(m) };
    keep.forEach((idx, i) => {
      det.boxes.set(boxes.subarray(4 * idx, 4 * idx + 4), 4 * i);
      det.scores[i] = cand[idx].score;
      det.labels[i] = cand[idx].cls;
      det.locations[i] = cand[idx].loc;
    });
    results.push(det);
  }
  return results;
}
