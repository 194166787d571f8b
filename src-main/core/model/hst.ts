// HST = frozen ViT with per-layer Meta Tokens + Hierarchical Side Network (+ optional classification head).
//
// Tensor layout is channels-last throughout; the model input is [B, H, W, 3], already normalised, with H and W
// multiples of the patch size (any size: the position embedding is resampled to the grid).
//
//   hst.vitForward(x, {training?, keepTokens?}) → VitOutput
//       metaOut[l]: [B, 1, D]       layer l's Meta Token after block l          (l = 0 … depth−1)
//       patches[l]: [B, h, w, D]    layer l's patch tokens (CLS dropped), h = H/patch, w = W/patch
//       tokens[l]:  [B, 2+h·w, D]   the full block output [MetaT, CLS, patches]  (keepTokens only)
//     The ViT pass alone: with MetaT and the ViT LayerNorms frozen, its outputs depend only on the image, which
//     is what the fast-mode feature cache stores.
//   hst.sideForward(x, vitOut, {training?}) → SideOutput
//       stem:   [B, (H/4)·(W/4), C1]  tokens after the stem LN
//       stages: [B, H/4, W/4, C1], [B, H/8, W/8, C2], [B, H/16, W/16, C3], [B, H/32, W/32, C4]
//       (odd sizes round up: each downsampler gives floor((n−1)/2)+1)
//   hst.forward(x, {training?}) → { vit, stem, stages, logits? }   both passes; logits [B, K] when num_classes > 0
//
// Train mode turns on drop-path (ViT blocks and side blocks, linear ramps to config.drop_path_rate) and batch
// statistics in the BatchNorms (updating their running stats). Call inside tf.tidy / an optimizer closure.
// Optimise only hst.trainableVariables() (the spec's freeze rule, see trainable.ts).
import { tf } from '../compute/engine';
import { resolveHstConfig, type ResolvedHstConfig } from './config';
import { ClsHead } from './cls-head';
import { MetaTokens } from './meta-token';
import { ParamStore } from './params';
import { SideNetwork, type SideOutput } from './side-network';
import { Vit, type VitOutput } from './vit';

export type { VitOutput } from './vit';
export type { SideOutput } from './side-network';

/** Where the backbone weights came from; 'random' is only ever set on explicit request and is shown to users. */
export type BackboneSource =
  | { kind: 'random'; label: 'random (untrained) backbone' }
  | { kind: 'pending' }
  | { kind: 'pretrained'; name: string; file?: string; sha256?: string }
  | { kind: 'checkpoint'; file: string };

export interface ForwardOptions {
  training?: boolean;
}

export interface HstOutput extends SideOutput {
  vit: VitOutput;
  logits?: tf.Tensor2D;
}

export interface HstBuildOptions {
  /**
   * 'random': initialise the ViT randomly, explicitly (synthetic demo, benchmarks, tests); labelled as such.
   * 'pending': weights will be loaded (checkpoint or pretrained backbone); forward refuses to run until then.
   */
  backbone: 'random' | 'pending';
  /** seed for the random initialisers (side network always; ViT when backbone is 'random') */
  seed?: number;
}

export class HstModel {
  readonly config: ResolvedHstConfig;
  readonly store: ParamStore;
  readonly vit: Vit;
  readonly meta: MetaTokens;
  readonly side: SideNetwork;
  readonly head: ClsHead | null;
  backboneSource: BackboneSource;

  constructor(config: unknown, opts: HstBuildOptions) {
    if (opts?.backbone !== 'random' && opts?.backbone !== 'pending') {
      throw new Error("HstModel: say where the backbone comes from: backbone 'pending' (weights loaded next) or 'random' (explicit random init)");
    }
    const c = (this.config = isResolved(config) ? config : resolveHstConfig(config));
    this.store = new ParamStore(opts.seed);
    this.store.backboneZeros = opts.backbone === 'pending';
    this.vit = new Vit(this.store, {
      imgSize: c.img_size, patch: c.patch_size, dim: c.embed_dim, depth: c.depth, heads: c.num_heads,
      mlpRatio: c.mlp_ratio, eps: c.vit_norm_eps, layerScale: c.layer_scale,
    });
    this.meta = new MetaTokens(this.store, c.depth, c.embed_dim);
    this.side = new SideNetwork(this.store, c);
    this.head = c.num_classes > 0 ? new ClsHead(this.store, c.m_embed_dims[3], c.num_classes) : null;
    this.backboneSource = opts.backbone === 'random' ? { kind: 'random', label: 'random (untrained) backbone' } : { kind: 'pending' };
  }

  private checkReady(): void {
    if (this.backboneSource.kind === 'pending') {
      throw new Error("the ViT backbone has no weights yet: load a checkpoint or a pretrained backbone (hst-studio backbone import/download), or build the model with backbone 'random' explicitly");
    }
  }

  vitForward(x: tf.Tensor4D, opts: ForwardOptions & { keepTokens?: boolean } = {}): VitOutput {
    this.checkReady();
    return this.vit.forwardWithMeta(x, this.meta, { training: opts.training, dropPathRate: this.config.drop_path_rate, keepTokens: opts.keepTokens });
  }

  sideForward(x: tf.Tensor4D, vitOut: VitOutput, opts: ForwardOptions = {}): SideOutput {
    return this.side.forward(x, vitOut, { training: opts.training, dropPathRate: this.config.drop_path_rate });
  }

  classify(stage4: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
    if (!this.head) throw new Error('this model has no classification head (num_classes is 0)');
    const head = this.head;
    return tf.tidy(() => head.forward(stage4, opts.training ?? false));
  }

  forward(x: tf.Tensor4D, opts: ForwardOptions & { keepTokens?: boolean } = {}): HstOutput {
    const vit = this.vitForward(x, opts);
    const side = this.sideForward(x, vit, opts);
    const head = this.head;
    const logits = head ? tf.tidy(() => head.forward(side.stages[3], opts.training ?? false)) : undefined;
    return { vit, ...side, logits };
  }

  trainableVariables(): tf.Variable[] {
    return this.store.trainableVariables();
  }

  frozenVariables(): tf.Variable[] {
    return this.store.frozenVariables();
  }

  /** Parameter counts (buffers excluded). */
  paramCounts(): { trainable: number; frozen: number } {
    let trainable = 0;
    let frozen = 0;
    for (const e of this.store.entries.values()) {
      if (e.buffer) continue;
      if (e.variable.trainable) trainable += e.variable.size;
      else frozen += e.variable.size;
    }
    return { trainable, frozen };
  }

  dispose(): void {
    this.vit.dispose();
    this.store.dispose();
  }
}

function isResolved(c: unknown): c is ResolvedHstConfig {
  return typeof c === 'object' && c !== null && Array.isArray((c as ResolvedHstConfig).stageLayers);
}

/** Convenience: a model with an explicitly random backbone (demo, benchmarks, tests). */
export function createRandomHst(config: unknown, seed?: number): HstModel {
  return new HstModel(config, { backbone: 'random', seed });
}
