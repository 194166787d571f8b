// Any config, not just the fixture's: other image sizes and aspect ratios, other depths, the presets; train mode.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { presetConfig, resolveHstConfig, SIDE_PRESETS } from '../../../src-main/core/model/config';
import { createRandomHst } from '../../../src-main/core/model/hst';

describe('HST with other configs', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  it('derives stage ↔ ViT-block mapping from depth or block_indices', () => {
    expect(resolveHstConfig({ depth: 12 }).stageLayers).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]);
    expect(resolveHstConfig({ depth: 24 }).block_indices).toEqual([5, 11, 17, 23]);
    expect(resolveHstConfig({ depth: 8 }).m_depths).toEqual([2, 2, 2, 2]);
    expect(resolveHstConfig({ depth: 6, block_indices: [0, 1, 3, 5] }).stageLayers).toEqual([[0], [1], [2, 3], [4, 5]]);
    expect(() => resolveHstConfig({ depth: 10 })).toThrow(/not divisible by 4; give block_indices/);
  });

  it('runs a non-square input with a resampled pos_embed and depth 8; shapes follow the strides', () => {
    const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 32, depth: 8, num_heads: 2, num_classes: 4, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [1, 2, 2, 4] }, 3);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 48, 80, 3]) as tf.Tensor4D;
      const out = m.forward(x, { keepTokens: true });
      expect(out.vit.patches[7].shape).toEqual([2, 3, 5, 32]);
      expect(out.vit.metaOut[0].shape).toEqual([2, 1, 32]);
      expect(out.vit.tokens![3].shape).toEqual([2, 2 + 15, 32]);
      expect(out.stem.shape).toEqual([2, 12 * 20, 8]);
      expect(out.stages.map((s) => s.shape)).toEqual([[2, 12, 20, 8], [2, 6, 10, 8], [2, 3, 5, 16], [2, 2, 3, 16]]);
      expect(out.logits!.shape).toEqual([2, 4]);
      for (const s of out.stages) expect(Number.isFinite(tf.sum(s).dataSync()[0])).toBe(true);
    });
    m.dispose();
  });

  it('the ViT pass alone feeds the side network the same as forward (feature-cache split)', () => {
    const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 16, depth: 4, num_heads: 2, num_classes: 0, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 2, 2] }, 5);
    tf.tidy(() => {
      const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
      const full = m.forward(x);
      const vit = m.vitForward(x);
      const cached = { metaOut: vit.metaOut.map((t) => t.clone()), patches: vit.patches.map((t) => t.clone()) };
      const side = m.sideForward(x, cached);
      full.stages.forEach((s, i) => expect(Array.from(side.stages[i].dataSync())).toEqual(Array.from(s.dataSync())));
      expect(full.logits).toBeUndefined();
    });
    m.dispose();
  });

  it('gives each sample the same result alone as in a batch (batch-1 fast paths agree with batched ones)', () => {
    const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 16, depth: 4, num_heads: 2, num_classes: 3, m_embed_dims: [8, 8, 8, 16], m_c_num_heads: [1, 2, 2, 4] }, 4);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 32, 48, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
      const both = m.forward(x);
      for (let i = 0; i < 2; i++) {
        const one = m.forward(tf.slice(x, [i, 0, 0, 0], [1, 32, 48, 3]) as tf.Tensor4D);
        one.stages.forEach((s, k) => {
          const ref = tf.slice(both.stages[k], [i, 0, 0, 0], [1, ...s.shape.slice(1)]);
          const err = tf.norm(tf.sub(s, ref)).dataSync()[0] / tf.norm(ref).dataSync()[0];
          expect(err, `sample ${i} stage ${k + 1}`).toBeLessThan(1e-5);
        });
      }
    });
    m.dispose();
  });

  it('leaks no tensors in eval or in a training step, and frees intermediates block by block', () => {
    const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 16, depth: 4, num_heads: 2, num_classes: 3, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 2, 2] }, 6);
    const x = tf.randomNormal([2, 48, 48, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    tf.tidy(() => { m.forward(x); }); // warm-up: creates the resampled pos_embed cache once
    const base = tf.memory().numTensors;
    const out = m.forward(x);
    // what stays alive is exactly the returned tensors: 2 per ViT layer, stem, 4 stages, logits (+ their shared-data views)
    expect(tf.memory().numTensors - base).toBe(2 * 4 + 1 + 4 + 1 + 4);
    tf.dispose([out.vit.metaOut, out.vit.patches, out.stem, out.stages, out.logits!]);
    expect(tf.memory().numTensors).toBe(base + 4); // the 3-D stage tokens behind the stage maps
    const opt = tf.train.adam(1e-3);
    const before = tf.memory().numTensors;
    opt.minimize(() => tf.mean(m.forward(x, { training: true }).logits!) as tf.Scalar, false, m.trainableVariables());
    const afterFirst = tf.memory().numTensors; // Adam creates its moment slots on the first step
    opt.minimize(() => tf.mean(m.forward(x, { training: true }).logits!) as tf.Scalar, false, m.trainableVariables());
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(afterFirst).toBeGreaterThanOrEqual(before);
    opt.dispose();
    m.dispose();
  });

  it('train mode is stochastic with drop-path and eval mode is deterministic', () => {
    const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 16, depth: 4, num_heads: 2, num_classes: 3, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 2, 2], drop_path_rate: 0.5 }, 5);
    tf.tidy(() => {
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const e1 = m.forward(x).logits!.dataSync();
      const e2 = m.forward(x).logits!.dataSync();
      expect(Array.from(e2)).toEqual(Array.from(e1));
      const bnBefore = Array.from(m.side.stem.bnMean.dataSync());
      const t1 = m.forward(x, { training: true }).logits!.dataSync();
      const t2 = m.forward(x, { training: true }).logits!.dataSync();
      expect(Array.from(t1)).not.toEqual(Array.from(t2));
      expect(Array.from(m.side.stem.bnMean.dataSync())).not.toEqual(bnBefore);
    });
    m.dispose();
  });

  it('builds the dense and small presets with their widths', () => {
    const c = presetConfig('vit-tiny-16', 'small', { img_size: 64 });
    expect(c.m_embed_dims).toEqual([...SIDE_PRESETS.small.m_embed_dims]);
    const m = createRandomHst(c, 1);
    tf.tidy(() => {
      const out = m.forward(tf.randomNormal([1, 64, 64, 3]) as tf.Tensor4D);
      expect(out.stages.map((s) => s.shape[3])).toEqual([32, 64, 128, 192]);
    });
    m.dispose();
    expect(presetConfig('vit-small-16', 'dense').m_c_num_heads).toEqual([2, 4, 8, 12]);
  });

  it('builds the lite preset (the CPU fast plan\'s) with its widths and heads', () => {
    const c = presetConfig('vit-tiny-16', 'lite', { img_size: 64 });
    expect(c.m_embed_dims).toEqual([24, 48, 64, 72]);
    expect(c.m_c_num_heads).toEqual([2, 4, 8, 12]);
    const m = createRandomHst(c, 1);
    tf.tidy(() => {
      const out = m.forward(tf.randomNormal([1, 64, 64, 3]) as tf.Tensor4D);
      expect(out.stages.map((s) => s.shape.slice(1))).toEqual([[16, 16, 24], [8, 8, 48], [4, 4, 64], [2, 2, 72]]);
    });
    m.dispose();
  });
});
