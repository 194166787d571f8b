// tfjs ↔ PyTorch parameter layouts, permuted in plain JS: Linear [in,out] ↔ (out,in), Conv [kh,kw,in,out] ↔
// (out,in,kh,kw). A permutation is an exact copy, and plain JS is fast on every backend, while the wasm backend's
// tf.transpose with an explicit perm measured ~0.7 s per 192×768 matrix. Every checkpoint reader/writer uses this.

export type TorchLayout = 'plain' | 'linear' | 'conv';
type Layout = TorchLayout;

/** For each tfjs-layout element index, its index in the PyTorch layout (`shape` is the tfjs shape). */
function torchIndex(shape: readonly number[], layout: Exclude<Layout, 'plain'>): Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(n);
  if (layout === 'linear') {
    const [i, o] = shape;
    for (let r = 0; r < i; r++) for (let c = 0; c < o; c++) idx[r * o + c] = c * i + r;
    return idx;
  }
  const [kh, kw, ci, co] = shape;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let a = 0; a < ci; a++) {
        const src = ((y * kw + x) * ci + a) * co;
        for (let b = 0; b < co; b++) idx[src + b] = ((b * ci + a) * kh + y) * kw + x;
      }
  return idx;
}

/** tfjs-layout values (shape = the tfjs shape) → PyTorch layout. 'plain' returns `v` itself. */
export function toTorchValues(v: Float32Array, shape: readonly number[], layout: Layout): Float32Array {
  if (layout === 'plain') return v;
  const idx = torchIndex(shape, layout);
  const out = new Float32Array(v.length);
  for (let k = 0; k < idx.length; k++) out[idx[k]] = v[k];
  return out;
}

/** Inverse of toTorchValues: PyTorch layout → tfjs layout (`shape` is the tfjs shape). */
export function fromTorchValues(v: Float32Array, shape: readonly number[], layout: Layout): Float32Array {
  if (layout === 'plain') return v;
  const idx = torchIndex(shape, layout);
  const out = new Float32Array(v.length);
  for (let k = 0; k < idx.length; k++) out[k] = v[idx[k]];
  return out;
}
