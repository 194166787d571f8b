// Conv stem (`m_patch_embed1`, stride 4, spec §3.2):
//   conv3×3/s2 pad 1 (no bias) → BatchNorm (eps 1e-5, momentum 0.1) → ReLU → conv2×2/s2 (bias) → tokens → LN (1e-5)
// Padding is explicit and symmetric: tfjs 'same' pads 0 before / 1 after for even inputs and shifts the grid.
import { tf } from '../compute/engine';
import { batchNorm, conv2d, layerNorm, toTokens } from './layers';
import { convFanOut, ones, zeros } from './init';
import type { ParamStore } from './params';

export const STEM_BN_EPS = 1e-5;
export const STEM_LN_EPS = 1e-5;

export class ConvStem {
  readonly conv0: tf.Variable;
  readonly bnG: tf.Variable; readonly bnB: tf.Variable;
  readonly bnMean: tf.Variable; readonly bnVar: tf.Variable;
  readonly conv3W: tf.Variable; readonly conv3B: tf.Variable;
  readonly normG: tf.Variable; readonly normB: tf.Variable;
  /** PyTorch's values; public so parity tests can show that changing them breaks parity */
  bnEps = STEM_BN_EPS;
  lnEps = STEM_LN_EPS;
  pad = 1;

  constructor(store: ParamStore, readonly channels: number) {
    const c = channels;
    const p = 'm_patch_embed1.';
    this.conv0 = store.add(`${p}conv.0.weight`, [c, 3, 3, 3], 'conv', convFanOut(store.seeds));
    this.bnG = store.add(`${p}conv.1.weight`, [c], 'plain', ones());
    this.bnB = store.add(`${p}conv.1.bias`, [c], 'plain', zeros());
    this.bnMean = store.add(`${p}conv.1.running_mean`, [c], 'plain', zeros(), { buffer: true });
    this.bnVar = store.add(`${p}conv.1.running_var`, [c], 'plain', ones(), { buffer: true });
    this.conv3W = store.add(`${p}conv.3.weight`, [c, c, 2, 2], 'conv', convFanOut(store.seeds));
    this.conv3B = store.add(`${p}conv.3.bias`, [c], 'plain', zeros());
    this.normG = store.add(`${p}norm.weight`, [c], 'plain', ones());
    this.normB = store.add(`${p}norm.bias`, [c], 'plain', zeros());
  }

  /** img [B, H, W, 3] → tokens [B, (H/4)·(W/4), C1] (after the LN) and the grid. */
  forward(x: tf.Tensor4D, training: boolean): { tokens: tf.Tensor3D; h: number; w: number } {
    let y = conv2d(x, this.conv0 as tf.Variable<tf.Rank.R4>, 2, this.pad); // [B, H/2, W/2, C]
    y = batchNorm(y, { mean: this.bnMean, variance: this.bnVar }, this.bnEps, training, this.bnG, this.bnB) as tf.Tensor4D;
    y = tf.relu(y);
    y = conv2d(y, this.conv3W as tf.Variable<tf.Rank.R4>, 2, 0, this.conv3B); // [B, H/4, W/4, C]
    const [, h, w] = y.shape;
    return { tokens: layerNorm(toTokens(y), this.normG, this.normB, this.lnEps) as tf.Tensor3D, h, w };
  }
}
