// Per-layer Meta Tokens (spec §1.3): one learnable (1, 1, D) vector per ViT layer, prepended before that
// layer's block (no position embedding) and dropped after it. Xavier-uniform init, bound √(6/2D).
import { tf } from '../compute/engine';
import { uniform } from './init';
import type { ParamStore } from './params';

export class MetaTokens {
  readonly tokens: tf.Variable[];

  constructor(store: ParamStore, depth: number, dim: number) {
    const bound = Math.sqrt(6 / (2 * dim));
    this.tokens = Array.from({ length: depth }, (_, l) => store.add(`m_embeddings.${l}`, [1, 1, dim], 'plain', uniform(store.seeds, bound)));
  }

  /** [B, T, D] → [B, 1+T, D] with MetaT_l in front. */
  prepend(x: tf.Tensor3D, layer: number): tf.Tensor3D {
    const [b, , d] = x.shape;
    return tf.concat([tf.broadcastTo(this.tokens[layer], [b, 1, d]), x], 1);
  }
}
