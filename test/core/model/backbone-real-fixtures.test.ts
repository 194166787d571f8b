// Backbone loading against checkpoints written by the real libraries (test/fixtures/backbones, made by
// scripts/fixtures/make_backbone_fixtures.py with transformers 5.17 and timm 1.0.29): a Hugging Face
// ViTForImageClassification (q/k/v split, LayerNorm eps 1e-12) and a DINOv2-style timm ViT (patch 14, LayerScale)
// whose position embedding timm resamples (bicubic, antialias) when the input grid differs from the trained one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { readSafetensors, type StFile } from '../../../src-main/core/io/safetensors';
import { importHfBackbone, isHfVitNaming } from '../../../src-main/core/model/hf-import';
import { ParamStore } from '../../../src-main/core/model/params';
import { importTimmBackbone } from '../../../src-main/core/model/timm-import';
import { Vit } from '../../../src-main/core/model/vit';
import { loadStore } from '../../../src-main/core/model/weights';
import { fixtureTensor, relError } from './fixtures';

const dir = fileURLToPath(new URL('../../fixtures/backbones/', import.meta.url));
async function read(rel: string): Promise<StFile> {
  const p = dir + rel;
  if (!existsSync(p)) throw new Error(`fixture ${p} is missing (it is committed with the repository; see test/fixtures/backbones/README.md)`);
  return readSafetensors(p);
}

/** Runs a ViT over the fixture input named `inputKey` and returns the max rel. error over its blocks. */
function blockErrors(vit: Vit, acts: StFile, inputKey: string, blockKey: (i: number) => string, depth: number): number[] {
  return tf.tidy(() => {
    const x = tf.transpose(fixtureTensor(acts, inputKey), [0, 2, 3, 1]) as tf.Tensor4D;
    const out = vit.forwardPlain(x);
    return Array.from({ length: depth }, (_, i) => relError(out.blocks[i], fixtureTensor(acts, blockKey(i))));
  });
}

describe('backbones saved by transformers and timm', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  it('reproduces a transformers ViTForImageClassification checkpoint block by block', async () => {
    const w = await read('hf_vit_tiny/model.safetensors');
    const acts = await read('hf_vit_tiny/activations.safetensors');
    expect(isHfVitNaming(w.tensors.keys())).toBe(true);
    const b = importHfBackbone(w.tensors, 'hf_vit_tiny', 2);
    expect(b.shape).toMatchObject({ embed_dim: 32, depth: 2, patch_size: 16, img_size: 64, mlp_ratio: 2, vit_norm_eps: 1e-12 });
    const store = new ParamStore();
    const vit = new Vit(store, { imgSize: 64, patch: 16, dim: 32, depth: 2, heads: 2, mlpRatio: 2, eps: 1e-12, layerScale: false });
    loadStore(store, b.tensors, { only: 'backbone', allowUnexpected: true });
    const errs = blockErrors(vit, acts, 'input', (i) => `block${i}`, 2);
    console.log(`transformers ViT block errors: ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    for (const e of errs) expect(e).toBeLessThan(1e-5);
    store.dispose();
  });

  it('reproduces a DINOv2-style timm ViT (patch 14, LayerScale) at its own size and with a resampled position embedding', async () => {
    const w = await read('dinov2style_timm/weights.safetensors');
    const acts = await read('dinov2style_timm/activations.safetensors');
    const b = importTimmBackbone(w.tensors, 'dinov2style', 2);
    expect(b.shape).toMatchObject({ embed_dim: 32, depth: 2, patch_size: 14, img_size: 56, layer_scale: true });
    const store = new ParamStore();
    const vit = new Vit(store, { imgSize: 56, patch: 14, dim: 32, depth: 2, heads: 2, mlpRatio: 4, eps: 1e-6, layerScale: true });
    loadStore(store, b.tensors, { only: 'backbone', allowUnexpected: true });
    for (const size of [56, 70]) {
      const errs = blockErrors(vit, acts, `input_${size}`, (i) => `block${i}_${size}`, 2);
      console.log(`DINOv2-style ViT at ${size}px block errors: ${errs.map((e) => e.toExponential(2)).join(', ')}`);
      for (const e of errs) expect(e, `${size}px`).toBeLessThan(1e-5);
    }
    store.dispose();
  });
});
