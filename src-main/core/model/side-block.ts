// Side block (`M_Block`, spec §3.4), norms eps 1e-6:
//   X1 = X  + DropPath(CrossAttn(LN1(X), KV))     queries from X, keys/values from the 2 bridge tokens
//   X2 = X1 + F                                    fine-grained injection, plain add
//   X3 = X2 + DropPath(MLP(LN2(X2)))
import { tf } from '../compute/engine';
import { dropPath, gelu, layerNorm, linear } from './layers';
import { ones, truncNormal, zeros } from './init';
import type { ParamStore } from './params';

export const SIDE_LN_EPS = 1e-6;

export class SideBlock {
  readonly norm1g: tf.Variable; readonly norm1b: tf.Variable;
  readonly qW: tf.Variable; readonly qB: tf.Variable;
  readonly kW: tf.Variable; readonly kB: tf.Variable;
  readonly vW: tf.Variable; readonly vB: tf.Variable;
  readonly projW: tf.Variable; readonly projB: tf.Variable;
  readonly norm2g: tf.Variable; readonly norm2b: tf.Variable;
  readonly fc1W: tf.Variable; readonly fc1B: tf.Variable;
  readonly fc2W: tf.Variable; readonly fc2B: tf.Variable;
  /** PyTorch's value; public so parity tests can show that changing it breaks parity */
  lnEps = SIDE_LN_EPS;

  constructor(store: ParamStore, stage: number, j: number, readonly dim: number, readonly heads: number, mlpRatio: number) {
    const p = `m_block${stage}.${j}.`;
    const c = dim;
    const hid = Math.round(c * mlpRatio);
    const tn = truncNormal(store.seeds);
    this.norm1g = store.add(`${p}norm1.weight`, [c], 'plain', ones());
    this.norm1b = store.add(`${p}norm1.bias`, [c], 'plain', zeros());
    this.qW = store.add(`${p}attn.q.weight`, [c, c], 'linear', tn);
    this.qB = store.add(`${p}attn.q.bias`, [c], 'plain', zeros());
    this.kW = store.add(`${p}attn.k.weight`, [c, c], 'linear', tn);
    this.kB = store.add(`${p}attn.k.bias`, [c], 'plain', zeros());
    this.vW = store.add(`${p}attn.v.weight`, [c, c], 'linear', tn);
    this.vB = store.add(`${p}attn.v.bias`, [c], 'plain', zeros());
    this.projW = store.add(`${p}attn.proj.weight`, [c, c], 'linear', tn);
    this.projB = store.add(`${p}attn.proj.bias`, [c], 'plain', zeros());
    this.norm2g = store.add(`${p}norm2.weight`, [c], 'plain', ones());
    this.norm2b = store.add(`${p}norm2.bias`, [c], 'plain', zeros());
    this.fc1W = store.add(`${p}mlp.fc1.weight`, [hid, c], 'linear', tn);
    this.fc1B = store.add(`${p}mlp.fc1.bias`, [hid], 'plain', zeros());
    this.fc2W = store.add(`${p}mlp.fc2.weight`, [c, hid], 'linear', tn);
    this.fc2B = store.add(`${p}mlp.fc2.bias`, [c], 'plain', zeros());
  }

  /**
   * Cross-attention of N queries to the 2 bridge tokens (spec: m = 2). x [B, N, C], kv [B, 2, C] → [B, N, C].
   * A softmax over two scores is a sigmoid of their difference:
   *   A0 = σ(s0 − s1),  out = v1 + A0·(v0 − v1),  with s0 − s1 = q·(k0 − k1)/√hd per head.
   * So one elementwise product and two plain 2-D matmuls against a constant [C, h] head mask replace the
   * per-head batched matmuls (which wasm runs as a loop of slices), in the forward and in the backward pass.
   * Same arithmetic up to float rounding; the key bias cancels in k0 − k1 exactly as it does in the softmax.
   */
  private crossAttn(x: tf.Tensor3D, kv: tf.Tensor3D): tf.Tensor3D {
    const [b, n, c] = x.shape;
    const m = kv.shape[1];
    if (m !== 2) throw new Error(`side block: cross-attention expects the 2 bridge tokens, got ${m}`);
    const h = this.heads;
    const hd = c / h;
    const sum = new Float32Array(c * h); // [C, h]: sums a head's channels, scaled by 1/√hd
    const spread = new Float32Array(h * c); // [h, C]: copies a head's weight to its channels
    for (let ch = 0; ch < c; ch++) {
      const head = Math.floor(ch / hd);
      sum[ch * h + head] = 1 / Math.sqrt(hd);
      spread[head * c + ch] = 1;
    }
    const headSum = tf.tensor2d(sum, [c, h]);
    const headSpread = tf.tensor2d(spread, [h, c]);
    const q = linear(x, this.qW, this.qB); // [B, N, C]
    const [k0, k1] = tf.split(linear(kv, this.kW, this.kB), 2, 1); // [B, 1, C] each
    const [v0, v1] = tf.split(linear(kv, this.vW, this.vB), 2, 1);
    const diff = tf.matMul(tf.reshape(tf.mul(q, tf.sub(k0, k1)), [b * n, c]), headSum); // [B·N, h] = s0 − s1
    const a0 = tf.reshape(tf.matMul(tf.sigmoid(diff), headSpread), [b, n, c]); // A0 per channel
    const o = tf.add(v1, tf.mul(a0, tf.sub(v0, v1))); // [B, N, C]
    return linear(o, this.projW, this.projB) as tf.Tensor3D;
  }

  /** x [B, N, C], kv [B, 2, C], fine [B, N, C] → [B, N, C] */
  forward(x: tf.Tensor3D, kv: tf.Tensor3D, fine: tf.Tensor3D, training: boolean, dropRate: number): tf.Tensor3D {
    const x1 = tf.add(x, dropPath(this.crossAttn(layerNorm(x, this.norm1g, this.norm1b, this.lnEps) as tf.Tensor3D, kv), dropRate, training));
    const x2 = tf.add(x1, fine);
    const mlp = linear(gelu(linear(layerNorm(x2, this.norm2g, this.norm2b, this.lnEps), this.fc1W, this.fc1B)), this.fc2W, this.fc2B);
    return tf.add(x2, dropPath(mlp, dropRate, training)) as tf.Tensor3D;
  }
}
