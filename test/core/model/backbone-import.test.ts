// timm- and transformers-named ViT checkpoints map onto one internal ViT that reproduces the reference activations.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import type { StTensor } from '../../../src-main/core/io/safetensors';
import { importHfBackbone, isHfVitNaming } from '../../../src-main/core/model/hf-import';
import { ParamStore } from '../../../src-main/core/model/params';
import { importTimmBackbone } from '../../../src-main/core/model/timm-import';
import { Vit } from '../../../src-main/core/model/vit';
import { exportState, loadStore } from '../../../src-main/core/model/weights';
import { createRandomHst, HstModel } from '../../../src-main/core/model/hst';
import { resolveHstConfig } from '../../../src-main/core/model/config';
import { loadBackbone } from '../../../src-main/core/model/backbone-load';
import { fixtureTensor, readFixture, relError } from './fixtures';

/** The timm fixture renamed the way transformers' ViTModel stores it (q, k, v split). */
function toHfNames(timm: Map<string, StTensor>): Map<string, StTensor> {
  const out = new Map<string, StTensor>();
  const put = (n: string, t: StTensor) => out.set(`vit.${n}`, t);
  for (const [n, t] of timm) {
    const m = /^blocks\.(\d+)\.(.+)$/.exec(n);
    if (!m) {
      const top: Record<string, string> = {
        cls_token: 'embeddings.cls_token', pos_embed: 'embeddings.position_embeddings',
        'patch_embed.proj.weight': 'embeddings.patch_embeddings.projection.weight', 'patch_embed.proj.bias': 'embeddings.patch_embeddings.projection.bias',
        'norm.weight': 'layernorm.weight', 'norm.bias': 'layernorm.bias',
      };
      if (top[n]) put(top[n], t);
      else out.set(`classifier.${n.split('.').pop()}`, t);
      continue;
    }
    const [, l, rest] = m;
    const p = `encoder.layer.${l}.`;
    if (rest.startsWith('attn.qkv.')) {
      const kind = rest.split('.').pop()!;
      const rows = t.shape[0] / 3;
      const bytes = t.data.byteLength / 3;
      ['query', 'key', 'value'].forEach((q, i) =>
        put(`${p}attention.attention.${q}.${kind}`, { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data: t.data.slice(i * bytes, (i + 1) * bytes) }),
      );
      continue;
    }
    const map: Record<string, string> = {
      'norm1.weight': 'layernorm_before.weight', 'norm1.bias': 'layernorm_before.bias', 'norm2.weight': 'layernorm_after.weight', 'norm2.bias': 'layernorm_after.bias',
      'attn.proj.weight': 'attention.output.dense.weight', 'attn.proj.bias': 'attention.output.dense.bias',
      'mlp.fc1.weight': 'intermediate.dense.weight', 'mlp.fc1.bias': 'intermediate.dense.bias', 'mlp.fc2.weight': 'output.dense.weight', 'mlp.fc2.bias': 'output.dense.bias',
    };
    put(p + map[rest], t);
  }
  return out;
}

describe('ViT backbone import (fixtures/vit_tiny)', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  it('infers the backbone shape from a timm checkpoint', async () => {
    const w = await readFixture('vit_tiny', 'weights_timm.safetensors');
    const b = importTimmBackbone(w.tensors, 'vit_tiny', 2);
    expect(b.shape).toMatchObject({ embed_dim: 32, depth: 2, patch_size: 16, img_size: 64, mlp_ratio: 2, layer_scale: false, num_heads: 2 });
    expect(b.tensors.has('head.weight')).toBe(false);
  });

  it('reproduces the reference activations (tokens_in, both blocks, final norm) from timm names', async () => {
    const w = await readFixture('vit_tiny', 'weights_timm.safetensors');
    const a = await readFixture('vit_tiny', 'activations.safetensors');
    const store = new ParamStore();
    const vit = new Vit(store, { imgSize: 64, patch: 16, dim: 32, depth: 2, heads: 2, mlpRatio: 2, eps: 1e-6, layerScale: false });
    loadStore(store, importTimmBackbone(w.tensors, 'vit_tiny', 2).tensors, { only: 'backbone', allowUnexpected: true });
    tf.tidy(() => {
      const x = tf.transpose(fixtureTensor(a, 'input'), [0, 2, 3, 1]) as tf.Tensor4D;
      const out = vit.forwardPlain(x);
      const errs = {
        tokens_in: relError(out.embed, fixtureTensor(a, 'tokens_in')),
        'block.0': relError(out.blocks[0], fixtureTensor(a, 'block.0')),
        'block.1': relError(out.blocks[1], fixtureTensor(a, 'block.1')),
        encoder_ln: relError(out.final, fixtureTensor(a, 'encoder_ln')),
      };
      for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-5);
    });
    store.dispose();
  });

  it('maps transformers ViT names (query/key/value split) onto the same tensors', async () => {
    const w = await readFixture('vit_tiny', 'weights_timm.safetensors');
    const hf = toHfNames(w.tensors);
    expect(isHfVitNaming(hf.keys())).toBe(true);
    expect(isHfVitNaming(w.tensors.keys())).toBe(false);
    const fromHf = importHfBackbone(hf, 'hf', 2);
    const fromTimm = importTimmBackbone(w.tensors, 'timm', 2);
    expect(fromHf.shape.vit_norm_eps).toBe(1e-12);
    expect([...fromHf.tensors.keys()].sort()).toEqual([...fromTimm.tensors.keys()].sort());
    for (const [n, t] of fromTimm.tensors) {
      const h = fromHf.tensors.get(n)!;
      expect(h.shape, n).toEqual(t.shape);
      expect(Buffer.from(h.data).equals(Buffer.from(t.data)), n).toBe(true);
    }
  });

  it('names the tensor when a checkpoint is not a usable ViT', async () => {
    const w = await readFixture('vit_tiny', 'weights_timm.safetensors');
    const noPos = new Map(w.tensors);
    noPos.delete('pos_embed');
    expect(() => importTimmBackbone(noPos, 'x.safetensors')).toThrow(/missing tensor 'pos_embed'/);
    const dist = new Map(w.tensors);
    dist.set('dist_token', w.tensors.get('cls_token')!);
    expect(() => importTimmBackbone(dist, 'x.safetensors')).toThrow(/dist_token/);
    const hf = toHfNames(w.tensors);
    hf.delete('vit.encoder.layer.1.attention.attention.key.weight');
    expect(() => importHfBackbone(hf, 'y.safetensors')).toThrow(/blocks\.1\.attn\.qkv\.weight.*missing/);
  });

  it('loads a layer-scale (DINOv2-style) backbone and resamples its pos_embed to another native grid', () => {
    const base = { patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 1, 1], layer_scale: true };
    const src = createRandomHst(resolveHstConfig({ ...base, img_size: 32 }), 21);
    for (const blk of src.vit.blocks) for (const g of [blk.ls1!, blk.ls2!]) g.assign(tf.randomNormal(g.shape, 1, 0.3, 'float32', 5));
    const ckpt = exportState(src, (e) => e.backbone);
    const imported = importTimmBackbone(ckpt, 'dino-like', 2);
    expect(imported.shape).toMatchObject({ layer_scale: true, img_size: 32, patch_size: 8 });
    // same grid: identical outputs
    const same = new HstModel(resolveHstConfig({ ...base, img_size: 32 }), { backbone: 'pending', seed: 21 });
    loadBackbone(same, imported, { name: 'dino-like' });
    same.meta.tokens.forEach((t, l) => t.assign(src.meta.tokens[l])); // MetaT is not part of a backbone
    tf.tidy(() => {
      const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      expect(Array.from(same.vitForward(x).patches[3].dataSync())).toEqual(Array.from(src.vitForward(x).patches[3].dataSync()));
    });
    // another native grid (4×4 → 6×6): pos_embed resampled at load
    const bigger = new HstModel(resolveHstConfig({ ...base, img_size: 48 }), { backbone: 'pending' });
    loadBackbone(bigger, imported, { name: 'dino-like' });
    expect(bigger.vit.posEmbed.shape).toEqual([1, 37, 16]);
    expect(bigger.backboneSource).toMatchObject({ kind: 'pretrained', name: 'dino-like' });
    const wrong = new HstModel(resolveHstConfig({ ...base, layer_scale: false, img_size: 32 }), { backbone: 'pending' });
    expect(() => loadBackbone(wrong, imported, { name: 'dino-like' })).toThrow(/layer-scale/);
    const wrongDim = new HstModel(resolveHstConfig({ ...base, embed_dim: 24, num_heads: 2, img_size: 32 }), { backbone: 'pending' });
    expect(() => loadBackbone(wrongDim, imported, { name: 'dino-like' })).toThrow(/embed_dim=16 does not match the model config \(embed_dim=24\)/);
    [src, same, bigger, wrong, wrongDim].forEach((m) => m.dispose());
  });
});
