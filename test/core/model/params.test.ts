import { beforeAll, describe, expect, it } from 'vitest';
import { BACKBONE_SHAPES } from '../../../src-main/core/model/config';
import { createRandomHst } from '../../../src-main/core/model/hst';
import { SeedStream } from '../../../src-main/core/model/params';
import { setupTf } from '../heads/helpers/tf-setup';

beforeAll(setupTf);

// a small but complete HST: every kind of parameter, a shallow ViT
const CONFIG = { ...BACKBONE_SHAPES['vit-tiny-16'], depth: 4, img_size: 64, m_embed_dims: [8, 16, 24, 32], m_c_num_heads: [1, 1, 1, 1], num_classes: 0 };

function weights(seed: number | undefined): Map<string, Float32Array> {
  const m = createRandomHst(CONFIG, seed);
  const out = new Map([...m.store.entries.values()].map((e) => [e.name, Float32Array.from(e.variable.dataSync() as Float32Array)]));
  m.dispose();
  return out;
}

const equal = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, i) => v === y[i]);

describe('seeded random init', () => {
  it('never hands tfjs a seed of 0, which it reads as "unseeded"', () => {
    const s = new SeedStream(0);
    const seeds = Array.from({ length: 5 }, () => s.next());
    expect(seeds.every((v) => typeof v === 'number' && v !== 0)).toBe(true);
    expect(new Set(seeds).size).toBe(5);
    expect(new SeedStream(undefined).next()).toBeUndefined();
  });

  for (const seed of [0, 3])
    it(`builds the same weights twice with seed ${seed} (the first parameter included)`, () => {
      const a = weights(seed);
      const b = weights(seed);
      expect([...a.keys()]).toEqual([...b.keys()]);
      const differ = [...a].filter(([name, v]) => !equal(v, b.get(name)!)).map(([name]) => name);
      expect(differ).toEqual([]);
      // and the seed matters: another one draws other values
      const c = weights(seed + 1);
      expect(equal(c.get('patch_embed.proj.weight')!, a.get('patch_embed.proj.weight')!)).toBe(false);
    });

  it('draws afresh without a seed', () => {
    expect(equal(weights(undefined).get('patch_embed.proj.weight')!, weights(undefined).get('patch_embed.proj.weight')!)).toBe(false);
  });
});
