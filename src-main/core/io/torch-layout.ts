// tfjs ↔ PyTorch parameter layouts, permuted in plain JS: Linear [in,out] ↔ (out,in), Conv [kh,kw,in,out] ↔
// (out,in,kh,kw). A permutation is an exact copy, and plain JS is fast on every backend, while the wasm backend's
// tf.transpose with an explicit perm measured ~0.7 s per 192×768 matrix. Every checkpoint reader/writer uses this.

export type TorchLayout = 'plain' | 'linear' | 'conv';
type Layout = TorchLayout;

/** tfjs-layout values (shape = the tfjs shape) → PyTorch layout. 'plain' returns `v` itself. */
export function toTorchValues(v: Float32Array, shape: readonly number[], layout: Layout): Float32Array {
  if (layout === 'linear') {
    const [i, o] = shape;
    const out = new Float32Array(v.length);
    for (let r = 0; r < i; r++) for (let c = 0; c < o; c++) out[c * i + r] = v[r * o + c];
    return out;
  }
  if (layout === 'conv') {
    const [kh, kw, ci, co] = shape;
    const out = new Float32Array(v.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let a = 0; a < ci; a++) {
          const src = ((y * kw + x) * ci + a) * co;
          for (let b = 0; b < co; b++) out[((b * ci + a) * kh + y) * kw + x] = v[src + b];
        }
    return out;
  }
  return v;
}

/** Inverse of toTorchValues: PyTorch layout → tfjs layout (`shape` is the tfjs shape). */
export function fromTorchValues(v: Float32Array, shape: readonly number[], layout: Layout): Float32Array {
  if (layout === 'linear') {
    const [i, o] = shape;
    const out = new Float32Array(v.length);
    for (let c = 0; c < o; c++) for (let r = 0; r < i; r++) out[r * o + c] = v[c * i + r];
    return out;
  }
  if (layout === 'conv') {
    const [kh, kw, ci, co] = shape;
    const out = new Float32Array(v.length);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let a = 0; a < ci; a++) {
          const dst = ((y * kw + x) * ci + a) * co;
          for (let b = 0; b < co; b++) out[dst + b] = v[((b * ci + a) * kh + y) * kw + x];
        }
    return out;
  }
  return v;
}

