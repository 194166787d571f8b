import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { MultiTaskHeads, type ImageTargets } from '../../../src-main/core/heads/multi-task';
import { setupTf } from './helpers/tf-setup';
import { makeTrainer, randomStages } from './helpers/train';

beforeAll(setupTf);

const SMALL = [8, 16, 24, 32];
const S = 32;

function rect(x1: number, y1: number, x2: number, y2: number): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m[y * S + x] = 1;
  return m;
}

const images: ImageTargets[] = [
  { boxes: [2, 2, 18, 26, 16, 10, 30, 30], labels: [0, 1], masks: [rect(2, 2, 18, 26), rect(16, 10, 30, 30)], classLabel: 0 },
  { boxes: [], labels: [], masks: [], classLabel: 1 }, // an image with nothing in it
];

describe('multi-task heads', () => {
  let heads: MultiTaskHeads;
  beforeAll(() => {
    heads = new MultiTaskHeads({
      stageChannels: SMALL,
      numClasses: 2,
      tasks: ['instance', 'semantic', 'classify'],
      fpnWidth: 16,
      towerDepth: 1,
      maskBranchDepth: 2,
      detStrides: [8, 16],
      lossWeights: { sem_ce: 0.5 },
      seed: 1,
    });
  });
  afterAll(() => heads.dispose());

  it('instance implies detection; names parameters per task; rejects unknown tasks', () => {
    expect([...heads.tasks].sort()).toEqual(['classify', 'detect', 'instance', 'semantic']);
    const names = heads.params().map((p) => p.name);
    for (const prefix of ['heads.fpn.', 'heads.det.', 'heads.mask.', 'heads.sem.']) expect(names.some((n) => n.startsWith(prefix))).toBe(true);
    expect(names).toContain('head.weight');
    expect(names).toContain('fc_norm.running_var');
    expect(new Set(names).size).toBe(names.length);
    expect(() => new MultiTaskHeads({ stageChannels: SMALL, numClasses: 2, tasks: ['panoptic' as never] })).toThrow(/unknown task "panoptic"/);
    expect(() => new MultiTaskHeads({ stageChannels: SMALL, numClasses: 2, tasks: [] })).toThrow(/no task/);
  });

  it('prepares targets as typed arrays, semantic labels from masks', () => {
    const t = heads.prepareTargets(images, [S, S]);
    expect(t.fcos!.numPos).toBeGreaterThan(0);
    expect(t.condinst!.count).toBeGreaterThan(0);
    expect(t.semantic!.length).toBe(2 * S * S);
    expect(t.semantic![5 * S + 5]).toBe(1); // inside instance 0 (class 0 → label 1)
    expect(t.semantic![S * S + 5]).toBe(0); // empty image → background
    expect(Array.from(t.classLabels!)).toEqual([0, 1]);
  });

  it('returns named parts and their weighted total; tensor count stays flat over 20 train steps', () => {
    const stages = randomStages(2, S, SMALL, 41);
    const t = heads.prepareTargets(images, [S, S]);
    const check = tf.tidy(() => {
      const r = heads.loss(stages, t);
      const parts = Object.fromEntries(Object.entries(r.parts).map(([k, v]) => [k, v.dataSync()[0]]));
      return { parts, total: r.total.dataSync()[0] };
    });
    expect(Object.keys(check.parts).sort()).toEqual(['cls_ce', 'det_box', 'det_cls', 'det_ctr', 'mask_dice', 'sem_ce']);
    const want = Object.entries(check.parts).reduce((a, [k, v]) => a + v * (k === 'sem_ce' ? 0.5 : 1), 0);
    expect(check.total).toBeCloseTo(want, 4);
    for (const v of Object.values(check.parts)) expect(Number.isFinite(v)).toBe(true);

    const trainer = makeTrainer(heads.params(), 3e-3);
    const lossFn = () => heads.loss(stages, t).total;
    const first = trainer.step(lossFn);
    const count = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 20; i++) last = trainer.step(lossFn);
    expect(tf.memory().numTensors).toBe(count);
    expect(last).toBeLessThan(first);
    trainer.opt.dispose();
    tf.dispose(stages);
  }, 240_000);

  it('predicts every task per image in documented formats without leaking', async () => {
    const stages = randomStages(2, S, SMALL, 42);
    const before = tf.memory().numTensors;
    const preds = await heads.predict(stages, { imageSize: [S, S], scoreThreshold: 0.0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(preds.length).toBe(2);
    for (const p of preds) {
      const n = p.detections!.scores.length;
      expect(p.detections!.boxes.length).toBe(4 * n);
      expect(n).toBeLessThanOrEqual(100);
      expect(p.masks!.length).toBe(n);
      for (const m of p.masks!) expect(m.length).toBe(S * S);
      expect(p.semantic!.length).toBe(S * S);
      expect(Math.max(...p.semantic!)).toBeLessThanOrEqual(2);
      expect(p.classProbs!.length).toBe(2);
      expect(p.classProbs![0] + p.classProbs![1]).toBeCloseTo(1, 5);
    }
    expect(preds[0].detections!.scores.length).toBeGreaterThan(0);
    tf.dispose(stages);
  }, 120_000);

  it('handles an input size that is not a multiple of 32 (ceil-rounded pyramid)', async () => {
    const odd = new MultiTaskHeads({ stageChannels: SMALL, numClasses: 2, tasks: ['instance', 'semantic'], fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1, detStrides: [8, 16, 32], seed: 2 });
    const H = 40, W = 56;
    const m = new Uint8Array(H * W);
    for (let y = 5; y < 30; y++) for (let x = 10; x < 40; x++) m[y * W + x] = 1;
    const t = odd.prepareTargets([{ boxes: [10, 5, 40, 30], labels: [1], masks: [m] }], [H, W]);
    const stages = [4, 8, 16, 32].map((s, i) => tf.randomNormal([1, Math.ceil(H / s), Math.ceil(W / s), SMALL[i]], 0, 1, 'float32', i) as tf.Tensor4D);
    const parts = tf.tidy(() => Object.values(odd.loss(stages, t).parts).map((v) => v.dataSync()[0]));
    expect(parts.every(Number.isFinite)).toBe(true);
    const [p] = await odd.predict(stages, { imageSize: [H, W], scoreThreshold: 0 });
    expect(p.semantic!.length).toBe(H * W);
    expect(p.masks!.every((mm) => mm.length === H * W)).toBe(true);
    for (let i = 0; i < p.detections!.scores.length; i++) {
      const [x1, y1, x2, y2] = p.detections!.boxes.subarray(4 * i, 4 * i + 4);
      expect(x1 >= 0 && y1 >= 0 && x2 <= W && y2 <= H).toBe(true);
    }
    odd.dispose();
    tf.dispose(stages);
  }, 120_000);
});
