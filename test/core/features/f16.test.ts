// float16 conversion: exact on representable values, round-to-nearest-even, and the special cases.
import { describe, expect, it } from 'vitest';
import { f16BitsToF32, f16ToF32, f32ToF16, f32ToF16Bits } from '../../../src-main/core/features/f16';

describe('float16 conversion', () => {
  it('encodes known values bit-exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [1 / 3, 0x3555], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    ];
    for (const [v, bits] of cases) expect(f32ToF16Bits(v), String(v)).toBe(bits);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00); // overflow → Inf
    expect(f32ToF16Bits(2 ** -26)).toBe(0); // below half the smallest subnormal → 0
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });

  it('rounds ties to even', () => {
    // 1 + 2^-11 lies exactly between 1 and 1 + 2^-10: ties to the even mantissa (1)
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 lies between 1+2^-10 (odd) and 1+2^-9 (even): rounds up
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // a carry out of the mantissa bumps the exponent: just below 2 rounds to 2
    expect(f32ToF16Bits(2 - 2 ** -12)).toBe(0x4000);
  });

  it('round-trips every finite half exactly and keeps relative error ≤ 2^-11 for normal floats', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    for (let i = 0; i < 65536; i++) {
      const exp = (i >>> 10) & 0x1f;
      if (exp === 0x1f && (i & 0x3ff)) continue; // NaN payloads collapse to one quiet NaN
      if (back[i] !== i) throw new Error(`half 0x${i.toString(16)} did not round-trip (got 0x${back[i].toString(16)})`);
    }
    let maxRel = 0;
    for (let k = 0; k < 5000; k++) {
      const v = Math.fround((Math.random() < 0.5 ? -1 : 1) * 10 ** (Math.random() * 6 - 3)); // normal halves: 6.1e-5 … 65504
      const r = f16ToF32(f32ToF16([v]))[0];
      maxRel = Math.max(maxRel, Math.abs(r - v) / Math.abs(v));
    }
    expect(maxRel).toBeLessThanOrEqual(2 ** -11 + 1e-9);
  });
});
