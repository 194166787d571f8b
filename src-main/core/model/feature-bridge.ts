// Adaptive Feature Bridge (spec §2). One shared linear T_s: D → C_s per stage, used by all of the stage's ViT
// layers and by both branches, plus one LayerNorm (eps 1e-5) per ViT layer on the meta branch:
//   F_l  = resize_bilinear(T_s(P_l) → H_s×W_s)            fine-grained tokens [B, H_s·W_s, C_s], un-normalised
//   KV_l = [ LNproj_l(T_s(meta_out_l)), mean_tokens(F_l) ]  [B, 2, C_s]
// We project at the ViT grid and resize afterwards (the spec's recommendation: equal up to ~1e-6 because
// bilinear weights sum to 1, and far cheaper at stride 4); halfPixelCenters=true matches align_corners=False.
import { tf } from '../compute/engine';
import { layerNorm, linear } from './layers';
import { ones, truncNormal, zeros } from './init';
import type { ParamStore } from './params';
import { resizeBilinearAdjoint } from '../heads/layers/resize';

export const BRIDGE_LN_EPS = 1e-5;

export class FeatureBridge {
  readonly w: tf.Variable; readonly b: tf.Variable;
  /** LNproj per ViT layer of this stage, keyed by ViT layer index */
  readonly projNorms = new Map<number, { g: tf.Variable; b: tf.Variable }>();
  /** PyTorch's values; public so parity tests can show that changing them breaks parity */
  lnEps = BRIDGE_LN_EPS;
  halfPixelCenters = true;

  constructor(store: ParamStore, stage: number, vitDim: number, readonly channels: number, layers: number[]) {
    this.w = store.add(`T_Bridge_${stage}.weight`, [channels, vitDim], 'linear', truncNormal(store.seeds));
    this.b = store.add(`T_Bridge_${stage}.bias`, [channels], 'plain', zeros());
    for (const l of layers) {
      // official names are 1-based per ViT layer
      this.projNorms.set(l, {
        g: store.add(`m_proj_norm${l + 1}.weight`, [channels], 'plain', ones()),
        b: store.add(`m_proj_norm${l + 1}.bias`, [channels], 'plain', zeros()),
      });
    }
  }

  /**
   * metaOut [B, 1, D], patches [B, h, w, D] → kv [B, 2, C], fine [B, H, W, C] at the stage grid H×W.
   */
  forward(layer: number, metaOut: tf.Tensor3D, patches: tf.Tensor4D, H: number, W: number): { kv: tf.Tensor3D; fine: tf.Tensor4D } {
    const norm = this.projNorms.get(layer);
    if (!norm) throw new Error(`feature bridge has no LNproj for ViT layer ${layer}`);
    const [, h, w] = patches.shape;
    const proj = linear(patches, this.w, this.b) as tf.Tensor4D; // [B, h, w, C]
    const fine = h === H && w === W ? proj : this.halfPixelCenters ? bridgeResize(proj, H, W) : tf.image.resizeBilinear(proj, [H, W], false, false); // [B, H, W, C]
    const m = layerNorm(linear(metaOut, this.w, this.b), norm.g, norm.b, this.lnEps); // [B, 1, C]
    const g = tf.expandDims(tf.mean(fine, [1, 2]), 1); // [B, 1, C], after the resize as in the authors' code
    return { kv: tf.concat([m, g], 1) as tf.Tensor3D, fine };
  }
}

/**
 * tf.image.resizeBilinear(x, [H, W], false, halfPixelCenters=true) with an exact gradient: tfjs's
 * ResizeBilinearGrad ignores halfPixelCenters, so T_s, MetaT and the ViT LayerNorms got the gradient of a
 * half-pixel-shifted resize (found by the PyTorch trainer's gradient parity test: T_Bridge gradients 50–95 % off).
 * The forward is tfjs's op unchanged (the fixture parity is bit-for-bit what it was).
 */
function bridgeResize(x: tf.Tensor4D, H: number, W: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const f = tf.customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.image.resizeBilinear(xi, [H, W], false, true),
      gradFunc: (dy: tf.Tensor) => [resizeBilinearAdjoint(dy as tf.Tensor4D, h, w)],
    };
  }) as never) as (xi: tf.Tensor4D) => tf.Tensor4D;
  return f(x);
}
