import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { EMA_UPDATES_KEY, emaKey, WeightEma } from '../../../../src-main/core/training/optim/ema';
import { setupTf } from '../../heads/helpers/tf-setup';

beforeAll(setupTf);

function params(): { name: string; variable: tf.Variable }[] {
  return [
    { name: 'a.weight', variable: tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, `ema-test-a-${Math.random()}`) },
    { name: 'a.bias', variable: tf.variable(tf.tensor1d([0.5, -0.5]), true, `ema-test-b-${Math.random()}`) },
  ];
}

const values = (p: ReturnType<typeof params>) => p.map((x) => Array.from(x.variable.dataSync()));

describe('WeightEma', () => {
  it('warms its decay up as (1+t)/(10+t) and caps it', () => {
    const p = params();
    const ema = new WeightEma(p, 0.5);
    expect(ema.currentDecay()).toBeCloseTo(0.1, 12); // (1+0)/(10+0)
    ema.update();
    expect(ema.currentDecay()).toBeCloseTo(2 / 11, 12);
    for (let i = 0; i < 20; i++) ema.update();
    expect(ema.currentDecay()).toBe(0.5);
    expect(ema.count).toBe(21);
    p.forEach((x) => x.variable.dispose());
  });

  // wasm: update() reads the variables as views on the heap
  for (const backend of ['cpu', 'wasm']) {
    it(`averages the iterates with the warm-up decays, and evaluates with the average then restores the weights (${backend})`, async () => {
      expect((await initCompute({ backend })).backend).toBe(backend);
      const p = params();
      const ema = new WeightEma(p, 0.9);
      // reference in float64: shadow starts at the initial weights
      let ref = values(p).map((r) => [...r]);
      const iterates = [
        [[2, 2, 2, 2], [1, 1]],
        [[0, -1, 5, 4], [0, 3]],
        [[1, 1, 1, 1], [-2, 2]],
      ];
      iterates.forEach((it, t) => {
        p.forEach((x, i) => x.variable.assign(tf.tensor(it[i], x.variable.shape)));
        const d = Math.min(0.9, (1 + t) / (10 + t));
        ref = ref.map((r, i) => r.map((s, j) => d * s + (1 - d) * it[i][j]));
        ema.update();
      });
      const before = tf.memory().numTensors;
      const seen = await ema.withAverage(async () => values(p));
      seen.forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(ref[i][j], 5)));
      expect(values(p)).toEqual(iterates[2]); // trained weights back
      expect(tf.memory().numTensors).toBe(before);

      // a failing evaluation still puts the trained weights back
      await expect(ema.withAverage(async () => Promise.reject(new Error('eval broke')))).rejects.toThrow('eval broke');
      expect(values(p)).toEqual(iterates[2]);

      ema.copyIntoModel();
      values(p).forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(ref[i][j], 5)));
      p.forEach((x) => x.variable.dispose());
      await initCompute({ backend: 'cpu' });
    });
  }

  it('round-trips its state, and names what a bad state lacks', () => {
    const p = params();
    const ema = new WeightEma(p, 0.99);
    p[0].variable.assign(tf.tensor2d([[9, 9], [9, 9]]));
    ema.update();
    ema.update();
    const state = ema.exportState();
    expect([...state.keys()].sort()).toEqual([EMA_UPDATES_KEY, emaKey('a.bias'), emaKey('a.weight')].sort());

    const q = params();
    const again = new WeightEma(q, 0.99);
    again.importState(state);
    expect(again.count).toBe(2);
    expect(again.currentDecay()).toBe(ema.currentDecay());
    ema.copyIntoModel();
    again.copyIntoModel();
    expect(values(q)).toEqual(values(p));

    const missing = new Map(state);
    missing.delete(emaKey('a.bias'));
    expect(() => again.importState(missing)).toThrow(/missing ema\.a\.bias/);
    const wrong = new Map(state);
    wrong.set(emaKey('a.weight'), { ...state.get(emaKey('a.weight'))!, shape: [4, 1] });
    expect(() => again.importState(wrong)).toThrow(/ema\.a\.weight has shape \[4,1\], expected \[2,2\]/);
    expect(() => new WeightEma(q, 1)).toThrow(/decay must be in \[0, 1\)/);
    [...p, ...q].forEach((x) => x.variable.dispose());
  });
});
