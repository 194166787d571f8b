// The onnxruntime ViT pass that fills the feature cache gives the studio's own (tfjs) ViT pass: every layer's
// Meta Token output and patch tokens agree to float rounding, and a cache filled through it serves the same
// features as one filled by tfjs (up to the float16 storage both share).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { f32ToF16 } from '../../../src-main/core/features/f16';
import { computeFeatures, FeatureCache } from '../../../src-main/core/features/feature-cache';
import { frozenParamsVersion } from '../../../src-main/core/features/frozen-version';
import { loadOnnxRuntime, OnnxVitPass } from '../../../src-main/core/features/onnx-vit';
import { resolveHstConfig } from '../../../src-main/core/model/config';
import { createRandomHst, type HstModel } from '../../../src-main/core/model/hst';
import { createProject } from '../../../src-main/core/store/project';

const cfg = resolveHstConfig({ img_size: 64, patch_size: 16, embed_dim: 32, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] });

function image(seed: number, S = 64): { image: Float32Array; height: number; width: number } {
  const a = new Float32Array(S * S * 3);
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = (s / 2147483648) * 2 - 1;
  }
  return { image: a, height: S, width: S };
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

const ort = loadOnnxRuntime();

describe('onnxruntime ViT pass (feature cache fill)', () => {
  let hst: HstModel;
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    hst = createRandomHst(cfg, 5);
  });

  it.skipIf(!ort)('matches the tfjs ViT pass layer by layer (onnxruntime-node installed)', async () => {
    const pass = await OnnxVitPass.create(hst, 64);
    expect(pass).not.toBeNull();
    expect(pass!.fused).toBe(true); // the CPU provider runs the fused-operator graph
    const inputs = [image(1), image(2), image(3)];
    const got = await pass!.run(inputs);
    const ref = computeFeatures(hst, inputs);
    expect(got).toHaveLength(3);
    for (let b = 0; b < 3; b++) {
      expect([got[b].depth, got[b].h, got[b].w, got[b].dim]).toEqual([4, 4, 4, 32]);
      expect(maxRel(got[b].meta, ref[b].meta)).toBeLessThan(1e-4);
      expect(maxRel(got[b].patches, ref[b].patches)).toBeLessThan(1e-4);
    }
    // the images differ, so equal outputs across the batch would mean a batching bug
    expect(maxRel(got[0].patches, got[1].patches)).toBeGreaterThan(1e-2);
    // the cache's float16, converted by onnxruntime, is bit for bit the studio's own conversion
    const half = await pass!.runHalf(inputs);
    for (let b = 0; b < 3; b++) {
      expect(half[b].meta).toEqual(f32ToF16(got[b].meta));
      expect(half[b].patches).toEqual(f32ToF16(got[b].patches));
    }
    // one or two images per run (the last run short) give the same features as one run of 3 (64 px: 16 tokens
    // per image, so the default puts the whole batch in one run); an input may be a view into a bigger buffer
    expect(pass!.imagesPerRun).toBeGreaterThanOrEqual(3);
    const big = new Float32Array(5 + 64 * 64 * 3);
    big.set(inputs[2].image, 5);
    const viewed = [inputs[0], inputs[1], { ...inputs[2], image: big.subarray(5) }];
    for (const imagesPerRun of [1, 2]) {
      const p = (await OnnxVitPass.create(hst, 64, 0, 'cpu', { imagesPerRun }))!;
      const again = await p.run(viewed);
      for (let b = 0; b < 3; b++) {
        expect(maxRel(again[b].meta, got[b].meta)).toBeLessThan(1e-6);
        expect(maxRel(again[b].patches, got[b].patches)).toBeLessThan(1e-6);
      }
      await p.dispose();
    }
    await expect(pass!.run([image(1, 32)])).rejects.toThrow(/built for 64×64/);
    await pass!.dispose();
  });

  it.skipIf(!ort)('the standard-op graph (the export\'s) and the fused one agree with tfjs, LayerScale included', async () => {
    // LayerScale gammas start at 1e-5 and biases at 0, which would hide a wrongly folded gamma or a misplaced
    // bias (inside MultiHeadAttention, BiasGelu) below the tolerance: set them to O(1)
    const ls = createRandomHst({ ...cfg, layer_scale: true }, 6);
    try {
      ls.vit.blocks.forEach((b, l) => {
        b.ls1!.assign(tf.randomUniform([cfg.embed_dim], 0.5, 1.5, 'float32', 10 + l));
        b.ls2!.assign(tf.randomUniform([cfg.embed_dim], -1.5, -0.5, 'float32', 20 + l));
        b.projB.assign(tf.randomUniform([cfg.embed_dim], -1, 1, 'float32', 30 + l));
        b.fc2B.assign(tf.randomUniform([cfg.embed_dim], -1, 1, 'float32', 40 + l));
        b.qkvB.assign(tf.randomUniform([3 * cfg.embed_dim], -1, 1, 'float32', 50 + l));
        b.fc1B.assign(tf.randomUniform([...b.fc1B.shape], -1, 1, 'float32', 60 + l));
      });
      ls.vit.patchB.assign(tf.randomUniform([cfg.embed_dim], -1, 1, 'float32', 70));
      const inputs = [image(4), image(5)];
      const ref = computeFeatures(ls, inputs);
      for (const fused of [false, true]) {
        const pass = (await OnnxVitPass.create(ls, 64, 0, 'cpu', { fused }))!;
        expect(pass.fused).toBe(fused);
        const got = await pass.run(inputs);
        for (let b = 0; b < 2; b++) {
          expect(maxRel(got[b].meta, ref[b].meta)).toBeLessThan(1e-4);
          expect(maxRel(got[b].patches, ref[b].patches)).toBeLessThan(1e-4);
        }
        await pass.dispose();
      }
    } finally {
      ls.dispose();
    }
  });

  it.skipIf(!ort)('a runtime that refuses the fused operators gets the standard graph; HST_ONNX_FUSED=0 asks for it', async () => {
    const spy = vi.spyOn(ort!.InferenceSession, 'create').mockImplementationOnce(() => Promise.reject(new Error('unknown op MultiHeadAttention')));
    try {
      const pass = (await OnnxVitPass.create(hst, 64))!;
      expect(spy).toHaveBeenCalledTimes(2);
      expect(pass.fused).toBe(false);
      const ref = computeFeatures(hst, [image(7)]);
      expect(maxRel((await pass.run([image(7)]))[0].patches, ref[0].patches)).toBeLessThan(1e-4);
      await pass.dispose();
    } finally {
      spy.mockRestore();
    }
    process.env.HST_ONNX_FUSED = '0';
    try {
      const pass = (await OnnxVitPass.create(hst, 64))!;
      expect(pass.fused).toBe(false);
      await pass.dispose();
    } finally {
      delete process.env.HST_ONNX_FUSED;
    }
  });

  it('without onnxruntime (HST_ONNX_VIT=0) a big fill goes through tfjs', async () => {
    process.env.HST_ONNX_VIT = '0';
    const store = createProject(join(mkdtempSync(join(tmpdir(), 'hst-onnxvit-')), 'p'));
    try {
      const cache = new FeatureCache({ store, backbone: 'test', size: 64, paramsVersion: frozenParamsVersion(hst) });
      const srcs = Array.from({ length: 16 }, (_, i) => ({ ...image(40 + i), imageHash: `t${i}`, flipped: false }));
      expect(await cache.ensure(hst, srcs, { batchSize: 8 })).toBe(16);
      expect(cache.filledWith).toBe('tfjs');
      const ref = computeFeatures(hst, [srcs[3]])[0];
      expect(maxRel((await cache.get('t3'))!.patches, ref.patches)).toBeLessThan(2e-3); // float16 storage
    } finally {
      delete process.env.HST_ONNX_VIT;
      store.close();
    }
  });

  it.skipIf(!ort)('a cache filled through onnxruntime serves the tfjs features', async () => {
    const store = createProject(join(mkdtempSync(join(tmpdir(), 'hst-onnxvit-')), 'p'));
    const cache = new FeatureCache({ store, backbone: 'test', size: 64, paramsVersion: frozenParamsVersion(hst) });
    // 16 entries: the size from which ensure() switches to onnxruntime
    const srcs = Array.from({ length: 16 }, (_, i) => ({ ...image(10 + i), imageHash: `h${i}`, flipped: false }));
    expect(await cache.ensure(hst, srcs, { batchSize: 8 })).toBe(16);
    expect(cache.filledWith).toBe('onnxruntime');
    const ref = computeFeatures(hst, [srcs[7]])[0];
    const got = (await cache.get('h7'))!;
    expect(maxRel(got.patches, ref.patches)).toBeLessThan(2e-3); // float16 storage
    // the last few entries of a fill (a chunk under 16) go through the session the fill already built
    expect(await cache.ensure(hst, [{ ...image(40), imageHash: 'tail', flipped: false }], { batchSize: 8 })).toBe(1);
    expect(cache.filledWith).toBe('onnxruntime');
    store.close();
  });
});
