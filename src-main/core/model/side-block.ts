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
   * Cross-attention of N queries to the m = 2 bridge tokens. x [B, N, C], kv [B, m, C] → [B, N, C].
   * With only two keys per head, per-head batched matmuls are all overhead; instead keys and values are laid
   * out block-diagonally over the heads (zeros outside a head's channels), so scores and outputs are one plain
   * matmul each: scores[n, (h, j)] = Σ_c q[n, c]·k[j, c]·[c ∈ head h], out[n, c] = Σ_j A[n, (head(c), j)]·v[j, c].
   * The added terms are exact zeros, so this is the same arithmetic as the per-head form.
   */
  private crossAttn(x: tf.Tensor3D, kv: tf.Tensor3D): tf.Tensor3D {
    const [b, n, c] = x.shape;
    const m = kv.shape[1];
    const h = this.heads;
    const hd = c / h;
    const mask = new Float32Array(c * h); // [C, h]: channel c belongs to head floor(c / hd)
    for (let ch = 0; ch < c; ch++) mask[ch * h + Math.floor(ch / hd)] = 1;
    const maskT = tf.tensor2d(mask, [c, h]);
    const q = linear(x, this.qW, this.qB); // [B, N, C]
    const k = linear(kv, this.kW, this.kB); // [B, m, C]
    const v = linear(kv, this.vW, this.vB); // [B, m, C]
    const kbd = tf.reshape(tf.mul(tf.expandDims(tf.transpose(k, [0, 2, 1]), 2), tf.reshape(maskT, [1, c, h, 1])), [b, c, h * m]); // [B, C, h·m]
    const vbd = tf.reshape(tf.mul(tf.expandDims(v, 1), tf.reshape(tf.transpose(maskT), [1, h, 1, c])), [b, h * m, c]); // [B, h·m, C]
    const mm = (a: tf.Tensor, w: tf.Tensor, rows: number, inner: number, cols: number): tf.Tensor =>
      // batch 1: a plain 2-D matmul (the fast path on wasm)
      b === 1 ? tf.reshape(tf.matMul(tf.reshape(a, [rows, inner]), tf.reshape(w, [inner, cols])), [1, rows, cols]) : tf.matMul(a as tf.Tensor3D, w as tf.Tensor3D);
    const scores = tf.mul(mm(q, kbd, n, c, h * m), 1 / Math.sqrt(hd)); // [B, N, h·m]
    const att = tf.reshape(tf.softmax(tf.reshape(scores, [b, n, h, m])), [b, n, h * m]); // softmax over each head's m keys
    const o = mm(att, vbd, n, h * m, c); // [B, N, C]
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
