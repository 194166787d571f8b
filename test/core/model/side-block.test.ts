// The side block's cross-attention (two keys: a sigmoid of the score difference) and the training-time fused
// linear layers against a plain per-head softmax attention written out here, forward and every gradient,
// while a gradient tape records (the training path), on wasm and on cpu.
import { afterAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { ParamStore } from '../../../src-main/core/model/params';
import { SideBlock } from '../../../src-main/core/model/side-block';

function ln(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), g), b);
}
const lin = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, w.shape[0]]), w), b), [...x.shape.slice(0, -1), w.shape[1] as number]);

/** M_Block as the spec writes it: per-head softmax over the 2 keys. */
function reference(blk: SideBlock, x: tf.Tensor3D, kv: tf.Tensor3D, fine: tf.Tensor3D): tf.Tensor {
  const [b, n, c] = x.shape;
  const h = blk.heads;
  const hd = c / h;
  const heads = (t: tf.Tensor, len: number) => tf.transpose(tf.reshape(t, [b, len, h, hd]), [0, 2, 1, 3]); // [B, h, len, hd]
  const xn = ln(x, blk.norm1g, blk.norm1b);
  const q = heads(lin(xn, blk.qW, blk.qB), n);
  const k = heads(lin(kv, blk.kW, blk.kB), 2);
  const v = heads(lin(kv, blk.vW, blk.vB), 2);
  const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd))); // [B, h, N, 2]
  const o = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [b, n, c]);
  const x1 = tf.add(x, lin(o, blk.projW, blk.projB));
  const x2 = tf.add(x1, fine);
  const hid = lin(ln(x2, blk.norm2g, blk.norm2b), blk.fc1W, blk.fc1B);
  const gelu = tf.mul(tf.mul(hid, 0.5), tf.add(tf.erf(tf.mul(hid, Math.SQRT1_2)), 1));
  return tf.add(x2, lin(gelu, blk.fc2W, blk.fc2B));
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`side block on ${backend}`, () => {
    afterAll(async () => {
      await initCompute({ backend: 'wasm' });
    });
    for (const [dim, heads] of [[16, 1], [24, 4]] as const)
      it(`C=${dim}, ${heads} head(s): output and gradients match per-head softmax attention`, async () => {
        expect((await initCompute({ backend })).backend).toBe(backend);
        const store = new ParamStore(5);
        const blk = new SideBlock(store, 1, 0, dim, heads, 4);
        // non-zero biases, so every parameter's path is exercised
        for (const e of store.entries.values()) if (e.name.endsWith('bias')) e.variable.assign(tf.randomNormal(e.variable.shape, 0, 0.3, 'float32', e.name.length));
        const x = tf.randomNormal([3, 7, dim], 0, 1, 'float32', 1) as tf.Tensor3D;
        const kv = tf.randomNormal([3, 2, dim], 0, 2, 'float32', 2) as tf.Tensor3D;
        const fine = tf.randomNormal([3, 7, dim], 0, 1, 'float32', 3) as tf.Tensor3D;
        const dy = tf.randomNormal([3, 7, dim], 0, 1, 'float32', 4);
        const vars = [...store.entries.values()].map((e) => e.variable);
        const run = (f: () => tf.Tensor) => tf.variableGrads(() => tf.sum(tf.mul(f(), dy)) as tf.Scalar, vars);
        const got = run(() => blk.forward(x, kv, fine, true, 0));
        const want = run(() => reference(blk, x, kv, fine));
        expect(Math.abs(got.value.dataSync()[0] - want.value.dataSync()[0])).toBeLessThan(1e-4 * Math.abs(want.value.dataSync()[0]) + 1e-4);
        for (const v of vars) {
          const name = v.name.split('/').pop()!;
          const g = got.grads[v.name];
          const w = want.grads[v.name];
          if (name.endsWith('attn.k.bias')) {
            // the shared key bias cancels in the softmax: zero gradient, up to float noise on the reference side
            expect(tf.max(tf.abs(g)).dataSync()[0], name).toBeLessThan(1e-5);
            continue;
          }
          const err = tf.tidy(() => tf.max(tf.abs(tf.sub(g, w))).dataSync()[0] / Math.max(1e-6, tf.max(tf.abs(w)).dataSync()[0]));
          expect(err, name).toBeLessThan(1e-4);
        }
        tf.dispose([x, kv, fine, dy, got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads), ...vars]);
      });
  });
}
