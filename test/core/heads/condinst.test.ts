import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { Fpn } from '../../../src-main/core/heads/fpn';
import { FcosHead } from '../../../src-main/core/heads/fcos-head';
import { CondInstHead } from '../../../src-main/core/heads/condinst-head';
import { assignFcosTargets, levelShapesFor } from '../../../src-main/core/heads/fcos-targets';
import { buildCondInstTargets, downsampleMask, writeRelCoords } from '../../../src-main/core/heads/condinst-targets';
import { ParamStore } from '../../../src-main/core/heads/layers/params';
import { allFinite, setupTf } from './helpers/tf-setup';
import { makeTrainer, randomStages } from './helpers/train';

beforeAll(setupTf);

const SMALL = [8, 16, 24, 32];

function rectMask(H: number, W: number, x1: number, y1: number, x2: number, y2: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m[y * W + x] = 1;
  return m;
}

describe('CondInst targets', () => {
  it('relative coordinates are (location − cell centre)/(8·stride)', () => {
    const out = new Float32Array(2 * 2 * 2);
    writeRelCoords(out, 0, 12, 4, 8, 8, 2, 2); // cells centred at (4,4),(12,4),(4,12),(12,12); soi 64
    expect(Array.from(out)).toEqual([8 / 64, 0, 0, 0, 8 / 64, -8 / 64, 0, -8 / 64]);
  });

  it('masks are area-averaged to the mask grid', () => {
    const m = rectMask(4, 4, 0, 0, 3, 2); // 3×2 block in the top-left
    const out = new Float32Array(4);
    downsampleMask(m, 4, 4, 2, out, 0);
    expect(Array.from(out)).toEqual([1, 0.5, 0, 0]);
  });

  it('keeps positives with masks only, caps the count evenly, validates mask sizes', () => {
    const H = 32;
    const levels = levelShapesFor(H, H, [8, 16]);
    const gts = [{ boxes: [0, 0, 32, 32, 2, 2, 30, 30], labels: [0, 1] }];
    const fcos = assignFcosTargets(gts, levels, { numClasses: 2 });
    const masks = [[null, rectMask(H, H, 2, 2, 30, 30)]];
    const t = buildCondInstTargets(fcos, masks, H, H, 8, 64);
    const withMask = Array.from(fcos.gtIndex).filter((g) => g === 1).length;
    expect(t.count).toBe(withMask);
    expect(withMask).toBeGreaterThan(2);
    expect(Array.from(t.flatIndex).every((i) => fcos.gtIndex[i] === 1)).toBe(true);
    expect(t.maskH).toBe(4);
    expect(t.gtMasks.length).toBe(t.count * 16);
    const capped = buildCondInstTargets(fcos, masks, H, H, 8, 2);
    expect(capped.count).toBe(2);
    expect(() => buildCondInstTargets(fcos, [[null, new Uint8Array(5)]], H, H, 8)).toThrow(/instance 1 has a mask of 5 pixels/);
  });
});

describe('CondInst head', () => {
  it('has 169 dynamic parameters for C_mask 8, learns masks, is finite with no instances, predicts binary masks', async () => {
    const store = ParamStore.create('heads', 9);
    const S = 32;
    const fpn = new Fpn(store.scope('fpn'), { inChannels: SMALL, width: 16, levels: [8, 16] });
    const det = new FcosHead(store.scope('det'), { numClasses: 2, inChannels: 16, strides: [8, 16], towerDepth: 1 });
    const mask = new CondInstHead(store.scope('mask'), { inChannels: 16, controllerInChannels: det.towerWidth, branchWidth: 16, branchDepth: 2 });
    expect(mask.numParams).toBe(169);
    expect(store.all().some((p) => p.name === 'heads.mask.controller.weight')).toBe(true);
    const stages = randomStages(2, S, SMALL, 31);
    const gts = [
      { boxes: [2, 2, 18, 30], labels: [0] },
      { boxes: [8, 8, 30, 24], labels: [1] },
    ];
    // non-rectangular masks: triangles inside the boxes
    const tri = (x1: number, y1: number, x2: number, y2: number) => {
      const m = new Uint8Array(S * S);
      for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) if ((x - x1) / (x2 - x1) <= (y - y1) / (y2 - y1)) m[y * S + x] = 1;
      return m;
    };
    const masks = [[tri(2, 2, 18, 30)], [tri(8, 8, 30, 24)]];
    const fcos = assignFcosTargets(gts, levelShapesFor(S, S, [8, 16]), { numClasses: 2 });
    const t = buildCondInstTargets(fcos, masks, S, S, 8);
    expect(t.count).toBeGreaterThan(0);
    const lossFn = () => {
      const levels = fpn.apply(stages);
      return mask.loss(mask.forward(levels, det.forward(levels)), t).mask_dice;
    };
    const first = tf.tidy(() => lossFn().dataSync()[0]);
    const trainer = makeTrainer(store.all(), 1e-2);
    for (let i = 0; i < 60; i++) trainer.step(lossFn);
    const last = tf.tidy(() => lossFn().dataSync()[0]);
    // the learning itself: dice loss 0.64 → 0.02–0.03 (composed vs fused kernels)
    expect(last).toBeLessThan(first * 0.1);

    // no instances: exactly 0 and finite gradients
    const empty = buildCondInstTargets(assignFcosTargets([{ boxes: [], labels: [] }, { boxes: [], labels: [] }], levelShapesFor(S, S, [8, 16]), { numClasses: 2 }), [[], []], S, S, 8);
    expect(empty.count).toBe(0);
    const vars = store.all().map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => {
      const levels = fpn.apply(stages);
      const o = det.forward(levels);
      const parts = det.loss(o, assignFcosTargets([{ boxes: [], labels: [] }, { boxes: [], labels: [] }], o.levels, { numClasses: 2 }));
      return tf.addN([parts.det_cls, mask.loss(mask.forward(levels, o), empty).mask_dice]) as tf.Scalar;
    }, vars);
    expect(value.dataSync()[0]).toBeGreaterThanOrEqual(0);
    for (const g of Object.values(grads)) expect(allFinite(g)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);

    // prediction for chosen locations: binary H·W masks that overlap the GT triangle well after training
    const outs = tf.tidy(() => {
      const levels = fpn.apply(stages);
      const o = det.forward(levels);
      const m = mask.forward(levels, o);
      return [m.maskFeats, m.params];
    });
    const q = t.flatIndex[0];
    const b = t.imageIndex[0];
    const N = fcos.numLocations;
    const dets = [0, 1].map((i) => ({
      boxes: new Float32Array(i === b ? 4 : 0),
      scores: new Float32Array(i === b ? 1 : 0),
      labels: new Int32Array(i === b ? 1 : 0),
      locations: Int32Array.from(i === b ? [q - b * N] : []),
    }));
    const pred = await mask.predict({ maskFeats: outs[0] as tf.Tensor4D, params: outs[1] as tf.Tensor3D }, dets, fcos.levels, { imageSize: [S, S] });
    expect(pred[b].length).toBe(1);
    expect(pred[1 - b].length).toBe(0);
    const pm = pred[b][0];
    expect(pm.length).toBe(S * S);
    expect(pm.every((v) => v === 0 || v === 1)).toBe(true);
    const gt = masks[b][0];
    let inter = 0, uni = 0;
    for (let p = 0; p < S * S; p++) {
      if (pm[p] && gt[p]) inter++;
      if (pm[p] || gt[p]) uni++;
    }
    // A 32 px image and a stride-8 mask grid: the full-resolution overlap of the upsampled triangle sits at
    // 0.41–0.56 for the same ~0.02 loss depending on float rounding (fused vs composed kernels), so this checks
    // that the mask lands on the object, not how sharp it is.
    expect(inter / uni).toBeGreaterThan(0.35);
    tf.dispose(outs);
    trainer.opt.dispose();
    store.dispose();
    tf.dispose(stages);
  }, 240_000);
});
