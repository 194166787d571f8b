// Position-embedding resampling the way timm's resample_abs_pos_embed does it:
//   F.interpolate(grid, size, mode='bicubic', align_corners=False, antialias=True)
// PyTorch's antialiased path is a separable PIL-style filter: bicubic kernel with a = −0.5 (not the −0.75 of
// the plain bicubic path), support widened by the scale when downsampling, taps clipped at the border and the
// weights renormalised. tfjs has no bicubic resize, and the table is small and frozen, so we compute it on the
// CPU in float64 and hand back a constant.

/** PIL/PyTorch-AA bicubic kernel, a = −0.5. */
function cubicAA(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Interpolation matrix [outSize × inSize] (row i holds output i's tap weights), as PyTorch _compute_indices_weights_aa. */
export function aaBicubicWeights(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invscale = scale >= 1 ? 1 / scale : 1;
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let j = xmin; j < xmax; j++) total += cubicAA((j - center + 0.5) * invscale);
    for (let j = xmin; j < xmax; j++) {
      const w = cubicAA((j - center + 0.5) * invscale);
      m[i * inSize + j] = total !== 0 ? w / total : 0;
    }
  }
  return m;
}

/**
 * Resamples the patch part of a pos_embed. `values` holds [prefix + inH·inW, D] row-major (prefix tokens, e.g.
 * the class slot, are copied untouched). Returns [prefix + outH·outW, D]. Identity when the grid is unchanged.
 */
export function resamplePosEmbed(
  values: Float32Array,
  dim: number,
  prefix: number,
  inGrid: [number, number],
  outGrid: [number, number],
): Float32Array {
  const [inH, inW] = inGrid;
  const [outH, outW] = outGrid;
  if (values.length !== (prefix + inH * inW) * dim) {
    throw new Error(`pos_embed has ${values.length / dim} tokens, expected ${prefix} + ${inH}×${inW}`);
  }
  const out = new Float32Array((prefix + outH * outW) * dim);
  out.set(values.subarray(0, prefix * dim));
  if (inH === outH && inW === outW) {
    out.set(values.subarray(prefix * dim), prefix * dim);
    return out;
  }
  const wh = aaBicubicWeights(inH, outH);
  const ww = aaBicubicWeights(inW, outW);
  const src = values.subarray(prefix * dim);
  // Horizontal pass first (as PyTorch's separable AA kernel), accumulated in float64.
  const tmp = new Float64Array(inH * outW * dim);
  for (let y = 0; y < inH; y++) {
    for (let ox = 0; ox < outW; ox++) {
      const t = (y * outW + ox) * dim;
      for (let x = 0; x < inW; x++) {
        const w = ww[ox * inW + x];
        if (w === 0) continue;
        const s = (y * inW + x) * dim;
        for (let d = 0; d < dim; d++) tmp[t + d] += w * src[s + d];
      }
    }
  }
  const acc = new Float64Array(dim);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      acc.fill(0);
      for (let y = 0; y < inH; y++) {
        const w = wh[oy * inH + y];
        if (w === 0) continue;
        const t = (y * outW + ox) * dim;
        for (let d = 0; d < dim; d++) acc[d] += w * tmp[t + d];
      }
      out.set(acc, (prefix + oy * outW + ox) * dim);
    }
  }
  return out;
}
