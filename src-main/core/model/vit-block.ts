// One pre-norm timm ViT block (spec §1.1):
//   x = x + DropPath(ls1 · Attn(LN1(x)));  x = x + DropPath(ls2 · MLP(LN2(x)))
// LN eps from the config (timm 1e-6), qkv with bias, exact GELU, layer scale only for DINOv2-style weights.
import { tf } from '../compute/engine';
import { dropPath, gelu, layerNorm, linear } from './layers';
import { ones, truncNormal, zeros } from './init';
import type { ParamStore } from './params';

export interface VitBlockDims {
  dim: number;
  heads: number;
  hidden: number;
  eps: number;
  layerScale: boolean;
}

export class VitBlock {
  readonly norm1g: tf.Variable; readonly norm1b: tf.Variable;
  readonly qkvW: tf.Variable; readonly qkvB: tf.Variable;
  readonly projW: tf.Variable; readonly projB: tf.Variable;
  readonly norm2g: tf.Variable; readonly norm2b: tf.Variable;
  readonly fc1W: tf.Variable; readonly fc1B: tf.Variable;
  readonly fc2W: tf.Variable; readonly fc2B: tf.Variable;
  readonly ls1?: tf.Variable; readonly ls2?: tf.Variable;

  constructor(store: ParamStore, readonly index: number, readonly d: VitBlockDims) {
    const p = `blocks.${index}.`;
    const { dim, hidden } = d;
    const tn = truncNormal(store.seeds);
    const bb = { backbone: true };
    this.norm1g = store.add(`${p}norm1.weight`, [dim], 'plain', ones(), bb);
    this.norm1b = store.add(`${p}norm1.bias`, [dim], 'plain', zeros(), bb);
    this.qkvW = store.add(`${p}attn.qkv.weight`, [3 * dim, dim], 'linear', tn, bb);
    this.qkvB = store.add(`${p}attn.qkv.bias`, [3 * dim], 'plain', zeros(), bb);
    this.projW = store.add(`${p}attn.proj.weight`, [dim, dim], 'linear', tn, bb);
    this.projB = store.add(`${p}attn.proj.bias`, [dim], 'plain', zeros(), bb);
    this.norm2g = store.add(`${p}norm2.weight`, [dim], 'plain', ones(), bb);
    this.norm2b = store.add(`${p}norm2.bias`, [dim], 'plain', zeros(), bb);
    this.fc1W = store.add(`${p}mlp.fc1.weight`, [hidden, dim], 'linear', tn, bb);
    this.fc1B = store.add(`${p}mlp.fc1.bias`, [hidden], 'plain', zeros(), bb);
    this.fc2W = store.add(`${p}mlp.fc2.weight`, [dim, hidden], 'linear', tn, bb);
    this.fc2B = store.add(`${p}mlp.fc2.bias`, [dim], 'plain', zeros(), bb);
    if (d.layerScale) {
      this.ls1 = store.add(`${p}ls1.gamma`, [dim], 'plain', (s) => tf.fill(s, 1e-5), bb);
      this.ls2 = store.add(`${p}ls2.gamma`, [dim], 'plain', (s) => tf.fill(s, 1e-5), bb);
    }
  }

  /** Multi-head self-attention. x [B, T, D] → [B, T, D]. */
  private attention(x: tf.Tensor3D): tf.Tensor3D {
    const [b, t, dim] = x.shape;
    const h = this.d.heads;
    const hd = dim / h;
    const qkv = linear(x, this.qkvW, this.qkvB); // [B, T, 3D], columns q | k | v, head-major inside each
    const [q, k, v] = tf.split(tf.reshape(qkv, [b * t, 3 * dim]), 3, 1).map((m) =>
      tf.transpose(tf.reshape(m, [b, t, h, hd]), [0, 2, 1, 3]), // [B, H, T, hd]
    );
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd))); // [B, H, T, T]
    const o = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [b, t, dim]); // [B, T, D]
    return linear(o, this.projW, this.projB) as tf.Tensor3D;
  }

  private mlp(x: tf.Tensor): tf.Tensor {
    return linear(gelu(linear(x, this.fc1W, this.fc1B)), this.fc2W, this.fc2B);
  }

  /** x [B, T, D] → [B, T, D] */
  forward(x: tf.Tensor3D, training: boolean, dropRate: number): tf.Tensor3D {
    let a: tf.Tensor = this.attention(layerNorm(x, this.norm1g, this.norm1b, this.d.eps) as tf.Tensor3D);
    if (this.ls1) a = tf.mul(a, this.ls1);
    const x1 = tf.add(x, dropPath(a, dropRate, training));
    let m = this.mlp(layerNorm(x1, this.norm2g, this.norm2b, this.d.eps));
    if (this.ls2) m = tf.mul(m, this.ls2);
    return tf.add(x1, dropPath(m, dropRate, training)) as tf.Tensor3D;
  }
}
