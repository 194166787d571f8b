import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { Fpn } from '../../../src-main/core/heads/fpn';
import { SemanticFpnHead } from '../../../src-main/core/heads/semantic-fpn-head';
import { semanticFromInstances } from '../../../src-main/core/heads/semantic-targets';
import { ClassifyHead } from '../../../src-main/core/heads/classify-head';
import { ParamStore } from '../../../src-main/core/heads/layers/params';
import { setupTf } from './helpers/tf-setup';
import { makeTrainer, randomStages } from './helpers/train';

beforeAll(setupTf);

const SMALL = [8, 16, 24, 32];

describe('semantic labels from instance masks', () => {
  it('paints class+1, smaller instances on top; partial masks → ignore; no instances → background', () => {
    const big = new Uint8Array([1, 1, 1, 1]);
    const small = new Uint8Array([0, 1, 0, 0]);
    expect(Array.from(semanticFromInstances([0, 2], [big, small], 2, 2))).toEqual([1, 3, 1, 1]);
    expect(Array.from(semanticFromInstances([0, 2], [small, big], 2, 2))).toEqual([3, 1, 3, 3]);
    expect(Array.from(semanticFromInstances([0], [null], 2, 2))).toEqual([255, 255, 255, 255]);
    expect(Array.from(semanticFromInstances([], [], 2, 2))).toEqual([0, 0, 0, 0]);
  });
});

describe('Semantic-FPN head', () => {
  it('outputs stride-4 logits, upsamples to the input and overfits a toy map', () => {
    const store = ParamStore.create('heads', 2);
    const fpn = new Fpn(store.scope('fpn'), { inChannels: SMALL, width: 16 });
    const head = new SemanticFpnHead(store.scope('sem'), { numClasses: 3, inChannels: 16, width: 16 });
    const S = 32;
    const stages = randomStages(2, S, SMALL, 21);
    // toy map: left half class 1, a square of class 2, a strip of ignore
    const labels = new Uint8Array(2 * S * S);
    for (let b = 0; b < 2; b++)
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          let v = x < S / 2 ? 1 : 0;
          if (b === 1 && x >= 18 && x < 28 && y >= 4 && y < 14) v = 2;
          if (y >= 30) v = 255;
          labels[b * S * S + y * S + x] = v;
        }
    const logitsShape = tf.tidy(() => head.forward(fpn.apply(stages)).shape);
    expect(logitsShape).toEqual([2, 8, 8, 3]);
    const trainer = makeTrainer(store.all(), 1e-2);
    const loss = () => head.loss(head.forward(fpn.apply(stages)), labels, S, S).sem_ce;
    const first = tf.tidy(() => loss().dataSync()[0]);
    for (let i = 0; i < 40; i++) trainer.step(loss);
    const last = tf.tidy(() => loss().dataSync()[0]);
    expect(last).toBeLessThan(first / 4);
    // pixel accuracy on labelled pixels
    const logits = tf.tidy(() => head.forward(fpn.apply(stages)));
    return head.predict(logits, S, S).then((maps) => {
      logits.dispose();
      expect(maps.length).toBe(2);
      expect(maps[0].length).toBe(S * S);
      let ok = 0;
      let n = 0;
      maps.forEach((m, b) =>
        m.forEach((v, p) => {
          const t = labels[b * S * S + p];
          if (t === 255) return;
          n++;
          if (v === t) ok++;
        }),
      );
      expect(ok / n).toBeGreaterThan(0.9);
      trainer.opt.dispose();
      store.dispose();
      tf.dispose(stages);
    });
  }, 180_000);

  it('rejects a label array of the wrong size', () => {
    const store = ParamStore.create('heads', 2);
    const fpn = new Fpn(store.scope('fpn'), { inChannels: SMALL, width: 16 });
    const head = new SemanticFpnHead(store.scope('sem'), { numClasses: 3, inChannels: 16, width: 16 });
    const stages = randomStages(1, 32, SMALL);
    expect(() => tf.tidy(() => head.loss(head.forward(fpn.apply(stages)), new Uint8Array(10), 32, 32).sem_ce)).toThrow(/10 labels for a 1×32×32 batch/);
    store.dispose();
  });
});

describe('classification head (spec §3.9)', () => {
  it('uses official names, batch statistics in training, running statistics in eval', () => {
    const store = ParamStore.create('', 4);
    const head = new ClassifyHead(store, { inChannels: 4, numClasses: 3 });
    expect(store.all().map((p) => [p.name, p.buffer, p.torchShape])).toEqual([
      ['fc_norm.running_mean', true, [4]],
      ['fc_norm.running_var', true, [4]],
      ['head.weight', false, [3, 4]],
      ['head.bias', false, [3]],
    ]);
    // stage-4 tokens whose means per image are known: image 0 all 1s, image 1 all 3s → batch mean 2, var 1 (biased)
    const x = tf.concat([tf.ones([1, 2, 2, 4]), tf.fill([1, 2, 2, 4], 3)]) as tf.Tensor4D;
    tf.tidy(() => {
      head.weight.assign(tf.eye(4, 3));
      head.forward(x, true);
    });
    // running: 0.9·0 + 0.1·2 = 0.2; var: 0.9·1 + 0.1·(unbiased 2) = 1.1
    expect(head.runningMean.dataSync()[0]).toBeCloseTo(0.2, 6);
    expect(head.runningVar.dataSync()[0]).toBeCloseTo(1.1, 6);
    const train = tf.tidy(() => head.forward(x, false).dataSync());
    // eval: (1 − 0.2)/√(1.1+1e-6) for image 0, feature 0 → class 0 logit
    expect(train[0]).toBeCloseTo(0.8 / Math.sqrt(1.1 + 1e-6), 5);
    const trainLogits = tf.tidy(() => head.forward(x, true).dataSync());
    expect(trainLogits[0]).toBeCloseTo(-1 / Math.sqrt(1 + 1e-6), 5);
    store.dispose();
  });

  it('learns to separate two classes and ignores unlabelled images', () => {
    const store = ParamStore.create('', 5);
    const head = new ClassifyHead(store, { inChannels: 8, numClasses: 2 });
    const x = tf.randomNormal([6, 2, 2, 8], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = [0, 1, 0, 1, -1, 1];
    const trainer = makeTrainer(store.all(), 5e-2);
    const loss = () => head.loss(head.forward(x, true), labels).cls_ce;
    const first = tf.tidy(() => loss().dataSync()[0]);
    for (let i = 0; i < 30; i++) trainer.step(loss);
    expect(tf.tidy(() => loss().dataSync()[0])).toBeLessThan(first / 4);
    trainer.opt.dispose();
    store.dispose();
  });
});
