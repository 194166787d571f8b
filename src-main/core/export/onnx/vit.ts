// ONNX twin of model/vit.ts + vit-block.ts + meta-token.ts: the HST backbone pass with per-layer Meta Tokens.
import type { tf } from '../../compute/engine';
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

/** A linear layer's weight and bias with a LayerScale γ folded in: (x·W + b)·γ = x·(W·γ) + b·γ. */
function scaled(g: OnnxGraph, name: string, W: tf.Tensor, b: tf.Tensor, gamma: tf.Tensor | undefined): { w: string; b: string } {
  if (!gamma) return { w: w(g, `${name}.weight`, W), b: w(g, `${name}.bias`, b) };
  const gv = gamma.dataSync() as Float32Array;
  const wv = Float32Array.from(W.dataSync() as Float32Array);
  const bv = Float32Array.from(b.dataSync() as Float32Array);
  const out = gv.length;
  for (let i = 0; i < wv.length; i++) wv[i] *= gv[i % out];
  for (let j = 0; j < out; j++) bv[j] *= gv[j];
  return { w: g.weight(`${name}.weight`, wv, [...W.shape]), b: g.weight(`${name}.bias`, bv, [out]) };
}

/**
 * The same block with onnxruntime's fused CPU operators (com.microsoft): the QKV product as one plain MatMul,
 * split into Q, K, V for MultiHeadAttention (QKV bias, heads, scaled softmax and the head merge in one op, no
 * head transposes), and BiasGelu (fc1 bias + exact erf GELU in one pass instead of six). LayerScale is folded
 * into the weights. Numbers equal to float rounding. For onnxruntime sessions only — the export keeps `block`.
 * Measured and left out: the `Attention` op (QKV product per head inside it: slower than one MatMul + MHA) and
 * SkipLayerNormalization for residual + norm2 (slower on CPU than Add + LayerNormalization).
 */
function fusedBlock(g: OnnxGraph, blk: VitBlock, x: string, l: number): string {
  const { dim, heads, eps } = blk.d;
  const p = `blocks.${l}.`;
  const n1 = g.layerNorm(x, w(g, `${p}norm1.weight`, blk.norm1g), w(g, `${p}norm1.bias`, blk.norm1b), eps);
  const [q, k, v] = g.opMulti('Split', [g.op('MatMul', [n1, w(g, `${p}attn.qkv.weight`, blk.qkvW)]), g.i64([dim, dim, dim])], 3, { axis: 2 });
  const [o] = g.contribOp('MultiHeadAttention', [q, k, v, w(g, `${p}attn.qkv.bias`, blk.qkvB)], 1, { num_heads: heads });
  const proj = scaled(g, `${p}attn.proj`, blk.projW, blk.projB, blk.ls1);
  const x1 = g.add(x, g.linear(o, proj.w, proj.b));
  const n2 = g.layerNorm(x1, w(g, `${p}norm2.weight`, blk.norm2g), w(g, `${p}norm2.bias`, blk.norm2b), eps);
  const [hdn] = g.contribOp('BiasGelu', [g.op('MatMul', [n2, w(g, `${p}mlp.fc1.weight`, blk.fc1W)]), w(g, `${p}mlp.fc1.bias`, blk.fc1B)], 1);
  const fc2 = scaled(g, `${p}mlp.fc2`, blk.fc2W, blk.fc2B, blk.ls2);
  return g.add(x1, g.linear(hdn, fc2.w, fc2.b));
}

/**
 * The patch embedding as one product: each p×p×3 patch of the NHWC image is a row in (row, column, channel)
 * order, which is the order of the tfjs kernel [p, p, 3, D] read as [p·p·3, D]. Spares onnxruntime's Conv its
 * layout reorders and the NCHW transposes around it.
 */
function patchify(g: OnnxGraph, vit: HstModel['vit'], img: string, h: number, wd: number): string {
  const { dim, patch: p } = vit.d;
  const rows = g.reshape(g.transpose(g.reshape(img, [0, h, p, wd, p * 3]), [0, 1, 3, 2, 4]), [0, h * wd, p * p * 3]);
  const kernel = g.weight('patch_embed.proj.weight', Float32Array.from(vit.patchW.dataSync() as Float32Array), [p * p * 3, dim]);
  return g.add(g.op('MatMul', [rows, kernel]), w(g, 'patch_embed.proj.bias', vit.patchB));
}

export interface OnnxVitOptions {
  /** onnxruntime's fused contrib operators in each block (`fusedBlock`) and the patch embedding as a product
   * (`patchify`): for onnxruntime sessions only */
  fused?: boolean;
}

/** img NHWC [B, H, W, 3] → per-layer Meta Token outputs and patch tokens. */
export function onnxVit(g: OnnxGraph, model: HstModel, img: string, H: number, W: number, opts: OnnxVitOptions = {}): OnnxVitOut {
  const vit = model.vit;
  const { dim, patch, depth } = vit.d;
  const h = H / patch;
  const wd = W / patch;
  const N = h * wd;
  const patches = opts.fused ? patchify(g, vit, img, h, wd) : g.reshape(g.convNhwc(img, convW(g, 'patch_embed.proj.weight', vit.patchW), w(g, 'patch_embed.proj.bias', vit.patchB), patch, patch, 0), [0, N, dim]); // [B, N, D]
  const cls = g.expandBatch(w(g, 'cls_token', vit.clsToken), img, [1, dim]);
  const pos = vit.posEmbedFor(h, wd); // resampled once at export, as the studio caches it
  let cur = g.add(g.concat([cls, patches], 1), w(g, 'pos_embed', pos)); // [B, 1+N, D]
  const out: OnnxVitOut = { metaOut: [], patches: [], h, w: wd };
  for (let l = 0; l < depth; l++) {
    const meta = g.expandBatch(w(g, `m_embeddings.${l}`, model.meta.tokens[l]), img, [1, dim]);
    const x = g.concat([meta, cur], 1);
    const y = opts.fused ? fusedBlock(g, vit.blocks[l], x, l) : block(g, vit.blocks[l], x, N + 2, l);
    out.metaOut.push(g.slice(y, 1, 0, 1));
    out.patches.push(g.slice(y, 1, 2, N + 2));
    cur = g.slice(y, 1, 1, N + 2);
  }
  return out;
}
