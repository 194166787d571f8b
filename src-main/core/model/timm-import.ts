// timm ViT checkpoints (safetensors, names like `blocks.0.attn.qkv.weight`) → the HST backbone. The HST ViT
// already uses timm names, so this is: strip wrapper prefixes, drop what HST does not use (head, fc_norm,
// dist/reg tokens are refused), infer the backbone shape, resample pos_embed to the model's grid.
import type { StTensor } from '../io/safetensors';
import { f32Tensor, toFloat32 } from '../io/safetensors';
import type { HstConfigInput } from './config';
import { resamplePosEmbed } from './pos-embed-interp';

export interface BackboneWeights {
  /** tensors under the HST/timm backbone names, torch layouts */
  tensors: Map<string, StTensor>;
  /** what the checkpoint says about the ViT's shape (num_heads is a guess unless given: D/64) */
  shape: Pick<HstConfigInput, 'embed_dim' | 'depth' | 'patch_size' | 'img_size' | 'layer_scale' | 'mlp_ratio' | 'num_heads' | 'vit_norm_eps'>;
}

const BACKBONE_KEY = /^(patch_embed\.proj\.(weight|bias)|cls_token|pos_embed|norm\.(weight|bias)|blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)|blocks\.\d+\.ls[12]\.gamma)$/;

function stripPrefix(name: string): string {
  for (const p of ['module.', 'model.', 'backbone.', 'encoder.']) if (name.startsWith(p)) return name.slice(p.length);
  return name;
}

/** Reads the backbone part of a timm-named state dict. Errors name the tensor and what is wrong. */
export function importTimmBackbone(tensors: Map<string, StTensor>, source = 'timm checkpoint', numHeads?: number): BackboneWeights {
  const out = new Map<string, StTensor>();
  for (const [raw, t] of tensors) {
    const name = stripPrefix(raw);
    if (name === 'dist_token' || name === 'reg_token') {
      throw new Error(`${source}: tensor '${raw}': distilled / register-token ViTs are not supported (HST needs a plain ViT with one class token)`);
    }
    if (BACKBONE_KEY.test(name)) out.set(name, t);
  }
  const need = (n: string) => {
    const t = out.get(n);
    if (!t) throw new Error(`${source}: missing tensor '${n}' (not a timm ViT checkpoint?)`);
    return t;
  };
  const pw = need('patch_embed.proj.weight');
  if (pw.shape.length !== 4 || pw.shape[1] !== 3 || pw.shape[2] !== pw.shape[3]) {
    throw new Error(`${source}: tensor 'patch_embed.proj.weight' has shape [${pw.shape}], expected [D, 3, p, p]`);
  }
  const [dim, , patch] = pw.shape;
  const cls = need('cls_token');
  if (cls.shape.join(',') !== `1,1,${dim}`) throw new Error(`${source}: tensor 'cls_token' has shape [${cls.shape}], expected [1, 1, ${dim}]`);
  const pos = need('pos_embed');
  const nPatch = pos.shape[1] - 1;
  const grid = Math.round(Math.sqrt(nPatch));
  if (pos.shape.length !== 3 || pos.shape[0] !== 1 || pos.shape[2] !== dim || grid * grid !== nPatch) {
    throw new Error(`${source}: tensor 'pos_embed' has shape [${pos.shape}], expected [1, 1 + g², ${dim}] (class slot + square grid)`);
  }
  let depth = 0;
  while (out.has(`blocks.${depth}.attn.qkv.weight`)) depth++;
  if (depth === 0) throw new Error(`${source}: no 'blocks.N.attn.qkv.weight' tensors found`);
  const fc1 = need('blocks.0.mlp.fc1.weight');
  const layerScale = out.has('blocks.0.ls1.gamma');
  if (!out.has('norm.weight')) {
    // MAE/global-pool checkpoints may lack the final norm; HST never uses it, keep an identity norm for round trips.
    out.set('norm.weight', f32Tensor(new Float32Array(dim).fill(1), [dim]));
    out.set('norm.bias', f32Tensor(new Float32Array(dim), [dim]));
  }
  return {
    tensors: out,
    shape: {
      embed_dim: dim, depth, patch_size: patch, img_size: grid * patch, layer_scale: layerScale,
      mlp_ratio: fc1.shape[0] / dim, num_heads: numHeads ?? Math.max(1, Math.round(dim / 64)), vit_norm_eps: 1e-6,
    },
  };
}

/** Resamples a checkpoint's pos_embed (timm bicubic antialias) when the model uses another native grid. */
export function adaptPosEmbed(weights: BackboneWeights, grid: number): BackboneWeights {
  const pos = weights.tensors.get('pos_embed')!;
  const dim = pos.shape[2];
  const g0 = Math.round(Math.sqrt(pos.shape[1] - 1));
  if (g0 === grid) return weights;
  const values = resamplePosEmbed(toFloat32(pos, 'pos_embed'), dim, 1, [g0, g0], [grid, grid]);
  const tensors = new Map(weights.tensors);
  tensors.set('pos_embed', f32Tensor(values, [1, 1 + grid * grid, dim]));
  return { tensors, shape: { ...weights.shape, img_size: grid * (weights.shape.patch_size ?? 16) } };
}
