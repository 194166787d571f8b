// Stage 2–4 downsampler (`OverlapPatchEmbed`, spec §3.3): tokens → map → conv3×3/s2 pad 1 (bias) → tokens → LN (1e-5).
// Output side = floor((H + 2 − 3)/2) + 1, so odd sizes round up.
import { tf } from '../compute/engine';
import { conv2d, layerNorm, toMap, toTokens } from './layers';
import { convFanOut, ones, zeros } from './init';
import type { ParamStore } from './params';

export const DOWN_LN_EPS = 1e-5;

export class Downsampler {
  readonly w: tf.Variable; readonly b: tf.Variable;
  readonly normG: tf.Variable; readonly normB: tf.Variable;
  /** PyTorch's value; public so parity tests can show that changing it breaks parity */
  lnEps = DOWN_LN_EPS;

  constructor(store: ParamStore, stage: number, cin: number, cout: number) {
    const p = `m_patch_embed${stage}.`;
    this.w = store.add(`${p}proj.weight`, [cout, cin, 3, 3], 'conv', convFanOut(store.seeds));
    this.b = store.add(`${p}proj.bias`, [cout], 'plain', zeros());
    this.normG = store.add(`${p}norm.weight`, [cout], 'plain', ones());
    this.normB = store.add(`${p}norm.bias`, [cout], 'plain', zeros());
  }

  /** tokens [B, h·w, Cin] on an h×w grid → [B, h'·w', Cout] and the new grid. */
  forward(x: tf.Tensor3D, h: number, w: number): { tokens: tf.Tensor3D; h: number; w: number } {
    const y = conv2d(toMap(x, h, w), this.w as tf.Variable<tf.Rank.R4>, 2, 1, this.b);
    const [, h2, w2] = y.shape;
    return { tokens: layerNorm(toTokens(y), this.normG, this.normB, this.lnEps) as tf.Tensor3D, h: h2, w: w2 };
  }
}
