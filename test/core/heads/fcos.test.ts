import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { Fpn } from '../../../src-main/core/heads/fpn';
import { FcosHead } from '../../../src-main/core/heads/fcos-head';
import {
  assignFcosTargets,
  defaultScaleRanges,
  levelShapesFor,
  locationsFor,
  type BoxTargetsInput,
} from '../../../src-main/core/heads/fcos-targets';
import { decodeFcos } from '../../../src-main/core/heads/fcos-decode';
import { ParamStore } from '../../../src-main/core/heads/layers/params';
import { allFinite, rng, setupTf } from './helpers/tf-setup';
import { makeTrainer, randomStages } from './helpers/train';

beforeAll(setupTf);

const SMALL = [16, 24, 32, 48];

describe('FCOS target assignment', () => {
  it('uses FCOS scale ranges scaled to the levels in use', () => {
    expect(defaultScaleRanges([8, 16, 32])).toEqual([
      [0, 64],
      [64, 128],
      [128, Infinity],
    ]);
    expect(defaultScaleRanges([4, 8, 16, 32])[1]).toEqual([32, 64]);
  });

  it('places location centres at j·s + ⌊s/2⌋', () => {
    const l = locationsFor([{ stride: 8, h: 2, w: 3 }]);
    expect(Array.from(l)).toEqual([4, 4, 12, 4, 20, 4, 4, 12, 12, 12, 20, 12]);
  });

  it('assigns centre-sampled locations on the right level, smallest box on ties', () => {
    const levels = levelShapesFor(64, 64, [8, 16, 32]);
    // box A: 20×20 at (20,20)-(40,40) → max dist ≤ 20 → level 8 only; radius 1.5·8 = 12 around (30,30)
    // box B: the whole image, 0..64 → max dist ≥ 32 → level 8 range [0,64] as well, but larger than A
    const gt: BoxTargetsInput = { boxes: [20, 20, 40, 40, 0, 0, 64, 64], labels: [1, 0] };
    const t = assignFcosTargets([gt], levels, { numClasses: 2 });
    const locs = locationsFor(levels);
    expect(t.numLocations).toBe(64 + 16 + 4);
    // every location on level 8 within (20,40)×(20,40) and within 12 px of (30,30): x,y ∈ {28, 36} → 4 positives for A
    const aPos: number[] = [];
    for (let k = 0; k < t.numLocations; k++) if (t.gtIndex[k] === 0) aPos.push(k);
    expect(aPos.map((k) => [locs[2 * k], locs[2 * k + 1]])).toEqual([
      [28, 28],
      [36, 28],
      [28, 36],
      [36, 36],
    ]);
    expect(aPos.every((k) => t.labels[k] === 1)).toBe(true);
    // (28,28): l=8,t=8,r=12,b=12 → centerness 8/12
    expect(t.centerness[aPos[0]]).toBeCloseTo(8 / 12, 6);
    expect(Array.from(t.ltrb.subarray(4 * aPos[0], 4 * aPos[0] + 4))).toEqual([8, 8, 12, 12]);
    // box B's centre region is (20,20)-(44,44) at level 8 (max dist ≥ 20 fits [0,64]) minus A's locations
    for (let k = 0; k < t.numLocations; k++) {
      if (t.gtIndex[k] !== 1) continue;
      const [x, y] = [locs[2 * k], locs[2 * k + 1]];
      expect(Math.abs(x - 32)).toBeLessThan(1.5 * (k < 64 ? 8 : k < 80 ? 16 : 32));
      expect(Math.abs(y - 32)).toBeLessThan(1.5 * (k < 64 ? 8 : k < 80 ? 16 : 32));
    }
    expect(t.numPos).toBe(Array.from(t.labels).filter((c) => c >= 0).length);
    // negatives carry the neutral 1,1,1,1 distances and zero centerness
    const neg = Array.from(t.labels).indexOf(-1);
    expect(Array.from(t.ltrb.subarray(4 * neg, 4 * neg + 4))).toEqual([1, 1, 1, 1]);
    expect(t.centerness[neg]).toBe(0);
  });

  it('skips zero-area and non-finite boxes and rejects out-of-range classes', () => {
    const levels = levelShapesFor(32, 32, [8]);
    const t = assignFcosTargets([{ boxes: [5, 5, 5, 20, 0, 0, NaN, 10], labels: [0, 0] }], levels, { numClasses: 1 });
    expect(t.numPos).toBe(0);
    expect(() => assignFcosTargets([{ boxes: [0, 0, 8, 8], labels: [3] }], levels, { numClasses: 2 })).toThrow(/image 0, box 0 has class 3/);
    expect(() => assignFcosTargets([{ boxes: [0, 0, 8], labels: [0] }], levels, { numClasses: 2 })).toThrow(/3 box coordinates for 1 labels/);
  });
});

describe('FCOS head', () => {
  let store: ParamStore;
  let fpn: Fpn;
  let head: FcosHead;
  beforeAll(() => {
    store = ParamStore.create('heads', 7);
    fpn = new Fpn(store.scope('fpn'), { inChannels: SMALL, width: 32, levels: [8, 16, 32] });
    head = new FcosHead(store.scope('det'), { numClasses: 3, inChannels: 32, strides: [8, 16, 32], towerDepth: 2 });
  });
  afterAll(() => store.dispose());

  it('produces [B,N,K], [B,N,4] (positive distances) and [B,N] with the prior-probability bias', () => {
    let levels: unknown = null;
    const out = tf.tidy(() => {
      const o = head.forward(fpn.apply(randomStages(2, 64, SMALL)));
      levels = o.levels;
      return { cls: o.cls, box: o.box, ctr: o.ctr };
    });
    expect(out.cls.shape).toEqual([2, 84, 3]);
    expect(out.box.shape).toEqual([2, 84, 4]);
    expect(out.ctr.shape).toEqual([2, 84]);
    expect(levels).toEqual(levelShapesFor(64, 64, [8, 16, 32]));
    const meanProb = tf.tidy(() => tf.mean(tf.sigmoid(out.cls)).dataSync()[0]);
    expect(meanProb).toBeGreaterThan(0.005);
    expect(meanProb).toBeLessThan(0.02);
    expect(Math.min(...out.box.dataSync())).toBeGreaterThan(0);
    tf.dispose([out.cls, out.box, out.ctr]);
  });

  it('names parameters like the PyTorch module (Sequential towers, per-level scales)', () => {
    const names = store.all().map((p) => p.name);
    expect(names).toContain('heads.det.cls_tower.0.weight');
    expect(names).toContain('heads.det.cls_tower.1.weight'); // GroupNorm γ
    expect(names).toContain('heads.det.bbox_tower.3.bias');
    expect(names).toContain('heads.det.cls_logits.bias');
    expect(names).toContain('heads.det.scales.2.scale');
    expect(names).toContain('heads.fpn.lateral.1.weight');
    expect(names).not.toContain('heads.fpn.lateral.0.weight'); // stride-4 stage unused
    const w = store.all().find((p) => p.name === 'heads.det.cls_logits.weight')!;
    expect(w.torchShape).toEqual([3, 32, 3, 3]);
    expect(w.layout).toBe('conv');
  });

  it('loss is finite with gradients for every parameter when images have no boxes', () => {
    const stages = randomStages(2, 64, SMALL);
    const levels = levelShapesFor(64, 64, [8, 16, 32]);
    const t = assignFcosTargets([{ boxes: [], labels: [] }, { boxes: [], labels: [] }], levels, { numClasses: 3 });
    const vars = store.all().map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => {
      const parts = head.loss(head.forward(fpn.apply(stages)), t);
      return tf.addN([parts.det_cls, parts.det_box, parts.det_ctr]) as tf.Scalar;
    }, vars);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const g of Object.values(grads)) expect(allFinite(g)).toBe(true);
    tf.dispose([value, ...Object.values(grads), ...stages]);
  });

  it('a mismatched input size gives a clear error', () => {
    const t = assignFcosTargets([{ boxes: [], labels: [] }], levelShapesFor(96, 96, [8, 16, 32]), { numClasses: 3 });
    expect(() =>
      tf.tidy(() => {
        head.loss(head.forward(fpn.apply(randomStages(1, 64, SMALL))), t);
      }),
    ).toThrow(/input size or strides differ/);
  });
});

describe('FCOS decode', () => {
  it('applies threshold, class-wise NMS and top-k, and reports the location', async () => {
    // one level, stride 8, 1×3 locations at x = 4, 12, 20 (y = 4); 2 classes
    const levels = [{ stride: 8, h: 1, w: 3 }];
    const logit = (p: number) => Math.log(p / (1 - p));
    // loc0: class 0 p=.9 ; loc1: class 0 p=.8 (same box → suppressed), class 1 p=.7 (kept: other class); loc2: below threshold
    const cls = tf.tensor3d([[[logit(0.9), logit(0.01)], [logit(0.8), logit(0.7)], [logit(0.02), logit(0.01)]]]);
    const ctr = tf.tensor2d([[10, 10, 10]]); // σ ≈ 1
    // identical absolute boxes (0,0)-(24,8) from loc0 and loc1
    const box = tf.tensor3d([[[4, 4, 20, 4], [12, 4, 12, 4], [1, 1, 1, 1]]]);
    const [det] = await decodeFcos({ cls, box, ctr, levels }, { scoreThreshold: 0.05, imageSize: [8, 24] });
    expect(Array.from(det.labels)).toEqual([0, 1]);
    expect(Array.from(det.locations)).toEqual([0, 1]);
    expect(det.scores[0]).toBeCloseTo(Math.sqrt(0.9 * (1 / (1 + Math.exp(-10)))), 5);
    expect(Array.from(det.boxes.subarray(0, 4))).toEqual([0, 0, 24, 8]);
    const [agn] = await decodeFcos({ cls, box, ctr, levels }, { classAgnostic: true });
    expect(agn.labels.length).toBe(1);
    const [top1] = await decodeFcos({ cls, box, ctr, levels }, { maxDetections: 1 });
    expect(top1.labels.length).toBe(1);
    tf.dispose([cls, ctr, box]);
  });
});

describe('FCOS learning sanity', () => {
  it('loss drops by a large factor in 50 steps on random features with synthetic boxes, without leaking tensors', () => {
    const store = ParamStore.create('heads', 3);
    const fpn = new Fpn(store.scope('fpn'), { inChannels: SMALL, width: 16, levels: [8, 16, 32] });
    const head = new FcosHead(store.scope('det'), { numClasses: 3, inChannels: 16, strides: [8, 16, 32], towerDepth: 2 });
    const r = rng(11);
    const B = 2;
    const size = 64;
    const gts: BoxTargetsInput[] = [];
    for (let b = 0; b < B; b++) {
      const boxes: number[] = [];
      const labels: number[] = [];
      for (let j = 0; j < 3; j++) {
        const w = 12 + r() * 40, h = 12 + r() * 40;
        const x = r() * (size - w), y = r() * (size - h);
        boxes.push(x, y, x + w, y + h);
        labels.push(Math.floor(r() * 3));
      }
      gts.push({ boxes, labels });
    }
    const stages = randomStages(B, size, SMALL, 5);
    const t = assignFcosTargets(gts, levelShapesFor(size, size, [8, 16, 32]), { numClasses: 3 });
    expect(t.numPos).toBeGreaterThan(10);
    const trainer = makeTrainer(store.all(), 3e-3);
    const parts = () =>
      tf.tidy(() => {
        const p = head.loss(head.forward(fpn.apply(stages)), t);
        return [p.det_cls, p.det_box, p.det_ctr].map((x) => x.dataSync()[0]);
      });
    // BCE against soft centerness targets cannot go below their entropy: measure the centerness part above it.
    let ctrFloor = 0;
    for (let i = 0; i < t.labels.length; i++)
      if (t.labels[i] >= 0) {
        const c = Math.min(Math.max(t.centerness[i], 1e-7), 1 - 1e-7);
        ctrFloor -= c * Math.log(c) + (1 - c) * Math.log(1 - c);
      }
    ctrFloor /= t.numPos;
    const first = parts();
    const loss = () => {
      const p = head.loss(head.forward(fpn.apply(stages)), t);
      return tf.addN([p.det_cls, p.det_box, p.det_ctr]) as tf.Scalar;
    };
    trainer.step(loss);
    const tensorsAfterFirst = tf.memory().numTensors;
    for (let i = 1; i < 50; i++) trainer.step(loss);
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
    const last = parts();
    // eslint-disable-next-line no-console
    console.log('FCOS parts first', first, 'last', last, 'ctr floor', ctrFloor);
    expect(last[0]).toBeLessThan(first[0] / 5);
    expect(last[1]).toBeLessThan(first[1] / 3);
    expect(last[2] - ctrFloor).toBeLessThan((first[2] - ctrFloor) / 3);
    trainer.opt.dispose();
    store.dispose();
    tf.dispose(stages);
  }, 300_000);
});
