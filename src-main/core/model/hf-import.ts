// Hugging Face transformers ViT checkpoints (`vit.encoder.layer.0.attention.attention.query.weight`, …) → the
// same timm-named backbone. q, k, v are concatenated row-wise into qkv (rows q | k | v, as timm stores them).
// HF ViT LayerNorms use eps 1e-12 (config layer_norm_eps); the returned shape says so.
import { type StTensor } from '../io/safetensors';
import { importTimmBackbone, type BackboneWeights } from './timm-import';

const LAYER = /^(?:vit\.)?encoder\.layer\.(\d+)\.(.+)$/;

const PER_LAYER: Record<string, string> = {
  'layernorm_before.weight': 'norm1.weight',
  'layernorm_before.bias': 'norm1.bias',
  'layernorm_after.weight': 'norm2.weight',
  'layernorm_after.bias': 'norm2.bias',
  'attention.output.dense.weight': 'attn.proj.weight',
  'attention.output.dense.bias': 'attn.proj.bias',
  'intermediate.dense.weight': 'mlp.fc1.weight',
  'intermediate.dense.bias': 'mlp.fc1.bias',
  'output.dense.weight': 'mlp.fc2.weight',
  'output.dense.bias': 'mlp.fc2.bias',
};

const TOP: Record<string, string> = {
  'embeddings.cls_token': 'cls_token',
  'embeddings.position_embeddings': 'pos_embed',
  'embeddings.patch_embeddings.projection.weight': 'patch_embed.proj.weight',
  'embeddings.patch_embeddings.projection.bias': 'patch_embed.proj.bias',
  'layernorm.weight': 'norm.weight',
  'layernorm.bias': 'norm.bias',
};

export function isHfVitNaming(names: Iterable<string>): boolean {
  for (const n of names) if (/(^|\.)encoder\.layer\.\d+\.attention\.attention\.query\./.test(n)) return true;
  return false;
}

function concatRows(parts: StTensor[], name: string, source: string): StTensor {
  const [a] = parts;
  for (const p of parts) {
    if (p.dtype !== a.dtype || p.shape.slice(1).join(',') !== a.shape.slice(1).join(',') || p.shape[0] !== a.shape[0]) {
      throw new Error(`${source}: query/key/value tensors for '${name}' differ in shape or dtype`);
    }
  }
  const data = new Uint8Array(parts.reduce((s, p) => s + p.data.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.byteLength;
  }
  return { dtype: a.dtype, shape: [a.shape[0] * 3, ...a.shape.slice(1)], data };
}

export function importHfBackbone(tensors: Map<string, StTensor>, source = 'transformers checkpoint', numHeads?: number): BackboneWeights {
  const timm = new Map<string, StTensor>();
  const qkv = new Map<string, Partial<Record<'query' | 'key' | 'value', StTensor>>>();
  for (const [raw, t] of tensors) {
    const name = raw.startsWith('vit.') ? raw.slice(4) : raw;
    if (name in TOP) {
      timm.set(TOP[name], t);
      continue;
    }
    const m = LAYER.exec(name);
    if (!m) continue; // pooler, classifier: not part of the backbone
    const [, layer, rest] = m;
    const qm = /^attention\.attention\.(query|key|value)\.(weight|bias)$/.exec(rest);
    if (qm) {
      const key = `blocks.${layer}.attn.qkv.${qm[2]}`;
      const entry = qkv.get(key) ?? {};
      entry[qm[1] as 'query' | 'key' | 'value'] = t;
      qkv.set(key, entry);
    } else if (rest in PER_LAYER) {
      timm.set(`blocks.${layer}.${PER_LAYER[rest]}`, t);
    }
  }
  for (const [key, e] of qkv) {
    if (!e.query || !e.key || !e.value) throw new Error(`${source}: '${key}' needs query, key and value tensors; some are missing`);
    timm.set(key, concatRows([e.query, e.key, e.value], key, source));
  }
  const out = importTimmBackbone(timm, source, numHeads);
  return { ...out, shape: { ...out.shape, vit_norm_eps: 1e-12 } };
}
