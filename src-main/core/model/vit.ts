// The frozen plain ViT backbone with timm parameter names (spec §1.1), run with per-layer Meta Tokens (§1.3).
// Input [B, H, W, 3] (normalised, H and W multiples of the patch size); the position embedding is resampled to
// the input grid timm-style (bicubic, antialias) and cached per grid.
import { readyForSyncRead, tf } from '../compute/engine';
import { conv2d } from './layers';
import { normal, ones, truncNormal, zeros } from './init';
import { resamplePosEmbed } from './pos-embed-interp';
import type { ParamStore } from './params';
import { VitBlock } from './vit-block';
import type { MetaTokens } from './meta-token';

export interface VitDims {
  imgSize: number;
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  eps: number;
  layerScale: boolean;
}

/** What the ViT pass hands to the side network; everything the side network needs from the backbone. */
export interface VitOutput {
  /** per layer l: output token 0 (the layer's Meta Token after block l), [B, 1, D] */
  metaOut: tf.Tensor3D[];
  /** per layer l: output patch tokens (CLS dropped) as a map, [B, h, w, D] with h = H/patch, w = W/patch */
  patches: tf.Tensor4D[];
  /** per layer l: the full block output [B, 2+N, D] = [MetaT, CLS, patches] (only with keepTokens) */
  tokens?: tf.Tensor3D[];
}

export class Vit {
  readonly patchW: tf.Variable; readonly patchB: tf.Variable;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly blocks: VitBlock[];
  readonly normG: tf.Variable; readonly normB: tf.Variable;
  private posCache: { h: number; w: number; dataId: object; value: tf.Tensor } | null = null;

  constructor(store: ParamStore, readonly d: VitDims) {
    const { dim, patch } = d;
    const g = d.imgSize / patch;
    const bb = { backbone: true };
    this.patchW = store.add('patch_embed.proj.weight', [dim, 3, patch, patch], 'conv', truncNormal(store.seeds), bb);
    this.patchB = store.add('patch_embed.proj.bias', [dim], 'plain', zeros(), bb);
    this.clsToken = store.add('cls_token', [1, 1, dim], 'plain', normal(store.seeds, 1e-6), bb);
    this.posEmbed = store.add('pos_embed', [1, 1 + g * g, dim], 'plain', truncNormal(store.seeds), bb);
    const hidden = Math.round(dim * d.mlpRatio);
    this.blocks = Array.from({ length: d.depth }, (_, i) => new VitBlock(store, i, { dim, heads: d.heads, hidden, eps: d.eps, layerScale: d.layerScale }));
    // The final norm is unused by HST but part of every checkpoint, so it is kept for round trips.
    this.normG = store.add('norm.weight', [dim], 'plain', ones(), bb);
    this.normB = store.add('norm.bias', [dim], 'plain', zeros(), bb);
  }

  get grid(): number {
    return this.d.imgSize / this.d.patch;
  }

  /** pos_embed for an h×w patch grid, [1, 1+h·w, D]; frozen, so resampled once per grid and weight version. */
  posEmbedFor(h: number, w: number): tf.Tensor {
    const g = this.grid;
    if (h === g && w === g) return this.posEmbed;
    const c = this.posCache;
    // Variable.assign swaps the dataId, so a reloaded pos_embed invalidates the cache by itself.
    if (c && c.h === h && c.w === w && c.dataId === this.posEmbed.dataId) return c.value;
    c?.value.dispose();
    const values = resamplePosEmbed(this.posEmbed.dataSync() as Float32Array, this.d.dim, 1, [g, g], [h, w]);
    const value = tf.keep(tf.tensor3d(values, [1, 1 + h * w, this.d.dim]));
    this.posCache = { h, w, dataId: this.posEmbed.dataId, value };
    return value;
  }

  /**
   * webgpu: makes pos_embed and its resample for an h×w grid readable synchronously (the ONNX graph builders read
   * them with dataSync; a cached resample that a forward already used lives on the GPU only). No-op elsewhere.
   */
  async readyPosEmbed(h: number, w: number): Promise<void> {
    if (tf.getBackend() !== 'webgpu') return;
    await readyForSyncRead([this.posEmbed]);
    await readyForSyncRead([this.posEmbedFor(h, w)]);
  }

  /** Patch embedding + CLS + position embedding: x [B, H, W, 3] → [B, 1+h·w, D], grid h×w. */
  embed(x: tf.Tensor4D): { tokens: tf.Tensor3D; h: number; w: number } {
    const [b, H, W, c] = x.shape;
    const p = this.d.patch;
    if (c !== 3) throw new Error(`ViT input must have 3 channels (NHWC), got shape [${x.shape}]`);
    if (H % p !== 0 || W % p !== 0) throw new Error(`input ${H}×${W} is not a multiple of the patch size ${p}`);
    const h = H / p;
    const w = W / p;
    const pe = conv2d(x, this.patchW as tf.Variable<tf.Rank.R4>, p, 0, this.patchB); // [B, h, w, D]
    const patches = tf.reshape(pe, [b, h * w, this.d.dim]);
    const cls = tf.broadcastTo(this.clsToken, [b, 1, this.d.dim]);
    const tokens = tf.add(tf.concat([cls, patches], 1), this.posEmbedFor(h, w)) as tf.Tensor3D;
    return { tokens, h, w };
  }

  /** Drop-path rate of ViT block l: linear ramp 0 → rate over the blocks (timm). */
  dropRate(l: number, rate: number): number {
    return this.d.depth > 1 ? (rate * l) / (this.d.depth - 1) : 0;
  }

  /**
   * The HST backbone pass: per layer l, [MetaT_l, CLS, patches] → block l → split off MetaT and patches; the
   * next layer gets [CLS, patches] and a fresh Meta Token.
   */
  forwardWithMeta(x: tf.Tensor4D, meta: MetaTokens, opts: { training?: boolean; dropPathRate?: number; keepTokens?: boolean } = {}): VitOutput {
    const training = opts.training ?? false;
    const { tokens: t0, h, w } = tf.tidy(() => this.embed(x));
    const [b, n1, dim] = t0.shape;
    const n = n1 - 1;
    let cur = t0;
    const out: VitOutput = { metaOut: [], patches: [], tokens: opts.keepTokens ? [] : undefined };
    for (let l = 0; l < this.d.depth; l++) {
      // One tidy per block frees its intermediates as soon as it is done (eval memory ≈ one block, not the whole
      // network); under a gradient tape, tfjs keeps its own copies of what backprop needs.
      const r = tf.tidy(() => {
        const y = this.blocks[l].forward(meta.prepend(cur, l), training, this.dropRate(l, opts.dropPathRate ?? 0)); // [B, 2+N, D]
        return {
          y,
          meta: tf.slice(y, [0, 0, 0], [b, 1, dim]) as tf.Tensor3D,
          patches: tf.reshape(tf.slice(y, [0, 2, 0], [b, n, dim]), [b, h, w, dim]) as tf.Tensor4D,
          next: tf.slice(y, [0, 1, 0], [b, n1, dim]) as tf.Tensor3D,
        };
      });
      out.metaOut.push(r.meta);
      out.patches.push(r.patches);
      if (out.tokens) out.tokens.push(r.y);
      else r.y.dispose();
      cur.dispose(); // internal: the embedding or the previous block's [CLS, patches]
      cur = r.next;
    }
    cur.dispose();
    return out;
  }

  /** A plain ViT pass (no Meta Tokens), for checking a backbone against its reference: per-block [B, 1+N, D]. */
  forwardPlain(x: tf.Tensor4D): { embed: tf.Tensor3D; blocks: tf.Tensor3D[]; final: tf.Tensor3D } {
    const { tokens } = this.embed(x);
    const blocks: tf.Tensor3D[] = [];
    let cur = tokens;
    for (const blk of this.blocks) {
      cur = blk.forward(cur, false, 0);
      blocks.push(cur);
    }
    const { mean, variance } = tf.moments(cur, -1, true);
    const final = tf.add(tf.mul(tf.mul(tf.sub(cur, mean), tf.rsqrt(tf.add(variance, this.d.eps))), this.normG), this.normB) as tf.Tensor3D;
    return { embed: tokens, blocks, final };
  }

  dispose(): void {
    this.posCache?.value.dispose();
    this.posCache = null;
  }
}
