// timm resample_abs_pos_embed (bicubic, align_corners=False, antialias=True) against PyTorch's output.
import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../../src-main/core/io/safetensors';
import { aaBicubicWeights, resamplePosEmbed } from '../../../src-main/core/model/pos-embed-interp';
import { readFixture } from './fixtures';

function rel(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('pos_embed resampling (timm convention)', () => {
  for (const [size, grid] of [[96, 6], [32, 2]] as const) {
    it(`matches pos_embed_interp_timm.${size} (4×4 → ${grid}×${grid}, ${grid > 4 ? 'up' : 'down'}sampling)`, async () => {
      const w = await readFixture('vit_tiny', 'weights_timm.safetensors');
      const a = await readFixture('vit_tiny', 'activations.safetensors');
      const pos = toFloat32(w.tensors.get('pos_embed')!);
      const ref = toFloat32(a.tensors.get(`pos_embed_interp_timm.${size}`)!);
      const out = resamplePosEmbed(pos, 32, 1, [4, 4], [grid, grid]);
      expect(out.length).toBe(ref.length);
      expect(rel(out, ref)).toBeLessThan(1e-6);
      // torchvision's align_corners=True variant is a different function: make sure we are not accidentally close to it
      const tv = toFloat32(a.tensors.get(`pos_embed_interp_tv.${size}`)!);
      expect(rel(out, tv)).toBeGreaterThan(1e-3);
    });
  }

  it('is the identity at the same grid and keeps the class slot', () => {
    const v = Float32Array.from({ length: (1 + 9) * 2 }, (_, i) => Math.sin(i));
    expect(Array.from(resamplePosEmbed(v, 2, 1, [3, 3], [3, 3]))).toEqual(Array.from(v));
    const up = resamplePosEmbed(v, 2, 1, [3, 3], [5, 7]);
    expect(up.length).toBe((1 + 35) * 2);
    expect([up[0], up[1]]).toEqual([v[0], v[1]]);
  });

  it('has rows summing to 1 (a constant field stays constant)', () => {
    for (const [i, o] of [[14, 24], [24, 14], [37, 16], [4, 4]]) {
      const m = aaBicubicWeights(i, o);
      for (let r = 0; r < o; r++) {
        let s = 0;
        for (let c = 0; c < i; c++) s += m[r * i + c];
        expect(s).toBeCloseTo(1, 12);
      }
    }
  });
});
