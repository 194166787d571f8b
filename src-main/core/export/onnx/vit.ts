// ONNX twin of model/vit.ts + vit-block.ts + meta-token.ts: the HST backbone pass with per-layer Meta Tokens.
import type { HstModel } from '../../model/hst';
import type { VitBlock } from '../../model/vit-block';
import type { OnnxGraph } from './graph';
import { convW, w } from './weights';

export interface OnnxVitOut {
  /** per layer: [B, 1, D] */
  metaOut: string[];
  /** per layer: patch tokens [B, h·w, D] (row-major = the tfjs [B, h, w, D] map) */
  patches: string[];
  h: number;
  w: number;
}

function block(g: OnnxGraph, blk: VitBlock, x: string, T: number, l: number): string {
  const { dim, heads, eps } = blk.d;
  const hd = dim / heads;
  const p = `blocks.${l}.`;
  const n1 = g.layerNorm(x, w(g, `${p}norm1.weight`, blk.norm1g), w(g, `${p}norm1.bias`, blk.norm1b), eps);
  const qkv = g.linear(n1, w(g, `${p}attn.qkv.weight`, blk.qkvW), w(g, `${p}attn.qkv.bias`, blk.qkvB)); // [B, T, 3D]
  const part = (i: number, perm: number[]) => g.transpose(g.reshape(g.slice(qkv, 2, i * dim, (i + 1) * dim), [0, T, heads, hd]), perm);
  const q = part(0, [0, 2, 1, 3]); // [B, H, T, hd]
  const kT = part(1, [0, 2, 3, 1]); // [B, H, hd, T]
  const v = part(2, [0, 2, 1, 3]);
  const att = g.op('Softmax', [g.mul(g.op('MatMul', [q, kT]), g.f32(1 / Math.sqrt(hd)))], { axis: -1 });
  const o = g.reshape(g.transpose(g.op('MatMul', [att, v]), [0, 2, 1, 3]), [0, T, dim]);
  let a = g.linear(o, w(g, `${p}attn.proj.weight`, blk.projW), w(g, `${p}attn.proj.bias`, blk.projB));
  if (blk.ls1) a = g.mul(a, w(g, `${p}ls1.gamma`, blk.ls1));
  const x1 = g.add(x, a);
  const n2 = g.layerNorm(x1, w(g, `${p}norm2.weight`, blk.norm2g), w(g, `${p}norm2.bias`, blk.norm2b), eps);
  let m = g.linear(g.gelu(g.linear(n2, w(g, `${p}mlp.fc1.weight`, blk.fc1W), w(g, `${p}mlp.fc1.bias`, blk.fc1B))), w(g, `${p}mlp.fc2.weight`, blk.fc2W), w(g, `${p}mlp.fc2.bias`, blk.fc2B));
  if (blk.ls2) m = g.mul(m, w(g, `${p}ls2.gamma`, blk.ls2));
  return g.add(x1, m);
}

/** img NHWC [B, H, W, 3] → per-layer Meta Token outputs and patch tokens. */
export function onnxVit(g: OnnxGraph, model: HstModel, img: string, H: number, W: number): OnnxVitOut {
  const vit = model.vit;
  const { dim, patch, depth } = vit.d;
  const h = H / patch;
  const wd = W / patch;
  const N = h * wd;
  const pe = g.convNhwc(img, convW(g, 'patch_embed.proj.weight', vit.patchW), w(g, 'patch_embed.proj.bias', vit.patchB), patch, patch, 0); // [B, h, w, D]
  const patches = g.reshape(pe, [0, N, dim]);
  const cls = g.expandBatch(w(g, 'cls_token', vit.clsToken), img, [1, dim]);
  const pos = vit.posEmbedFor(h, wd); // resampled once at export, as the studio caches it
  let cur = g.add(g.concat([cls, patches], 1), w(g, 'pos_embed', pos)); // [B, 1+N, D]
  const out: OnnxVitOut = { metaOut: [], patches: [], h, w: wd };
  for (let l = 0; l < depth; l++) {
    const meta = g.expandBatch(w(g, `m_embeddings.${l}`, model.meta.tokens[l]), img, [1, dim]);
    const y = block(g, vit.blocks[l], g.concat([meta, cur], 1), N + 2, l);
    out.metaOut.push(g.slice(y, 1, 0, 1));
    out.patches.push(g.slice(y, 1, 2, N + 2));
    cur = g.slice(y, 1, 1, N + 2);
  }
  return out;
}
