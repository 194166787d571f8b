// Hierarchical Side Network (spec §1.4, §3): conv stem → 4 stages; stage s (s>1 after a downsampler) runs one
// side block per ViT layer of that stage, each fed by that layer's bridge output, then its stage LayerNorm
// (eps 1e-6). The normalised stage output is both the pyramid feature and the next stage's input.
import { tf } from '../compute/engine';
import type { ResolvedHstConfig } from './config';
import { ConvStem } from './conv-stem';
import { Downsampler } from './downsampler';
import { FeatureBridge } from './feature-bridge';
import { layerNorm, toMap } from './layers';
import { ones, zeros } from './init';
import type { ParamStore } from './params';
import { SideBlock, SIDE_LN_EPS } from './side-block';
import type { VitOutput } from './vit';

export interface SideOutput {
  /** stem output tokens after its LN, [B, (H/4)·(W/4), C1] */
  stem: tf.Tensor3D;
  /** stage outputs as maps: [B, H/4, W/4, C1], [B, H/8, W/8, C2], [B, H/16, W/16, C3], [B, H/32, W/32, C4] */
  stages: tf.Tensor4D[];
}

export class SideNetwork {
  readonly stem: ConvStem;
  readonly downs: (Downsampler | null)[];
  readonly bridges: FeatureBridge[];
  readonly blocks: SideBlock[][];
  readonly norms: { g: tf.Variable; b: tf.Variable }[];
  /** stage-norm eps (PyTorch's value); public so parity tests can show that changing it breaks parity */
  stageNormEps = SIDE_LN_EPS;

  constructor(store: ParamStore, readonly cfg: ResolvedHstConfig) {
    const dims = cfg.m_embed_dims;
    this.stem = new ConvStem(store, dims[0]);
    this.downs = dims.map((d, s) => (s === 0 ? null : new Downsampler(store, s + 1, dims[s - 1], d)));
    this.bridges = dims.map((d, s) => new FeatureBridge(store, s + 1, cfg.embed_dim, d, cfg.stageLayers[s]));
    this.blocks = dims.map((d, s) => Array.from({ length: cfg.m_depths[s] }, (_, j) => new SideBlock(store, s + 1, j, d, cfg.m_c_num_heads[s], cfg.m_mlp_ratio)));
    this.norms = dims.map((d, s) => ({
      g: store.add(`m_norm${s + 1}.weight`, [d], 'plain', ones()),
      b: store.add(`m_norm${s + 1}.bias`, [d], 'plain', zeros()),
    }));
  }

  /** Drop-path rate of side block k (0-based over all stages): linspace(0, rate, total)[k]. */
  dropRate(k: number, rate: number): number {
    const total = this.cfg.m_depths.reduce((a, b) => a + b, 0);
    return total > 1 ? (rate * k) / (total - 1) : 0;
  }

  /** img [B, H, W, 3] + the ViT pass → stem and 4 stage maps. */
  forward(x: tf.Tensor4D, vit: VitOutput, opts: { training?: boolean; dropPathRate?: number } = {}): SideOutput {
    const training = opts.training ?? false;
    const stem = tf.tidy(() => this.stem.forward(x, training));
    let { tokens, h, w } = stem;
    const stages: tf.Tensor4D[] = [];
    let k = 0;
    // Each step runs in its own tidy and the previous internal token tensor is released, so eval memory stays
    // near one block's worth; the stem output and the stage outputs are returned and never released here.
    for (let s = 0; s < 4; s++) {
      const down = this.downs[s];
      if (down) {
        const src = tokens; // the previous stage's output: returned to the caller, so not released
        ({ tokens, h, w } = tf.tidy(() => down.forward(src, h, w)));
      }
      this.cfg.stageLayers[s].forEach((l, j) => {
        const prev = tokens;
        const rate = this.dropRate(k++, opts.dropPathRate ?? 0);
        tokens = tf.tidy(() => {
          const { kv, fine } = this.bridges[s].forward(l, vit.metaOut[l], vit.patches[l], h, w);
          const [b, , , c] = fine.shape;
          return this.blocks[s][j].forward(prev, kv, tf.reshape(fine, [b, h * w, c]) as tf.Tensor3D, training, rate);
        });
        if (prev !== stem.tokens) prev.dispose();
      });
      const pre = tokens;
      tokens = tf.tidy(() => layerNorm(pre, this.norms[s].g, this.norms[s].b, this.stageNormEps) as tf.Tensor3D);
      pre.dispose();
      stages.push(toMap(tokens, h, w));
    }
    return { stem: stem.tokens, stages };
  }
}
