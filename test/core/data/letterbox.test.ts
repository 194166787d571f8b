import { describe, expect, it } from 'vitest';
import {
  boxToInput,
  boxToOriginal,
  letterboxTransform,
  maskToOriginal,
  parseSize,
  pointToInput,
  pointToOriginal,
} from '../../../src-main/core/data/letterbox';

describe('letterbox geometry', () => {
  it('fits a wide image into a square, centred, with uniform scale', () => {
    const t = letterboxTransform(400, 200, parseSize(160));
    expect(t.scale).toBeCloseTo(0.4, 12);
    expect(t.padX).toBe(0);
    expect(t.padY).toBe(40); // 200·0.4 = 80 rows, (160 − 80)/2 above
    expect(boxToInput([0, 0, 400, 200], t)).toEqual([0, 40, 160, 120]);
  });

  it('handles [height, width] sizes and tall images', () => {
    const s = parseSize([128, 256]);
    expect(s).toEqual({ height: 128, width: 256 });
    const t = letterboxTransform(100, 300, s);
    expect(t.scale).toBeCloseTo(128 / 300, 12);
    expect(t.padY).toBe(0);
    expect(t.padX).toBe(Math.round((256 - 100 * t.scale) / 2));
    expect(() => parseSize(0)).toThrow(/height must be an integer/);
    expect(() => parseSize([64, 1.5])).toThrow(/width must be an integer/);
  });

  it('maps boxes and points back to the original within a pixel, also flipped and zoomed', () => {
    const cases = [
      letterboxTransform(333, 187, parseSize(224)),
      letterboxTransform(333, 187, parseSize(224), { flipped: true, zoom: 1.3, placeX: 0.2, placeY: 0.9 }),
      letterboxTransform(120, 480, parseSize([160, 96]), { flipped: true, zoom: 0.7, placeX: 1, placeY: 0 }),
    ];
    const box = [31.5, 20.25, 101, 150];
    for (const t of cases) {
      const back = boxToOriginal(boxToInput(box, t), t);
      for (let i = 0; i < 4; i++) expect(Math.abs(back[i] - Math.min(box[i], i % 2 ? t.origH : t.origW))).toBeLessThan(1);
      const [x, y] = pointToInput(17, 44, t);
      const [ox, oy] = pointToOriginal(x, y, t);
      expect(ox).toBeCloseTo(17, 9);
      expect(oy).toBeCloseTo(44, 9);
    }
    const f = cases[1];
    const b = boxToInput([10, 0, 30, 5], f);
    expect(b[0]).toBeCloseTo((333 - 30) * f.scale + f.padX, 9); // mirrored: the right edge becomes the left
    expect(b[2] - b[0]).toBeCloseTo(20 * f.scale, 9);
  });

  it('maps a mask at input resolution back to the original resolution', () => {
    const t = letterboxTransform(200, 100, parseSize(100)); // scale .5, padY 25
    const H = 100;
    const W = 100;
    const m = new Uint8Array(H * W);
    // input rows 35..44, cols 10..29  →  original rows 20..39, cols 20..59
    for (let y = 35; y < 45; y++) for (let x = 10; x < 30; x++) m[y * W + x] = 1;
    const o = maskToOriginal(m, H, W, t);
    expect(o.length).toBe(200 * 100);
    let n = 0;
    let wrong = 0;
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < 200; x++) {
        const want = y >= 20 && y < 40 && x >= 20 && x < 60 ? 1 : 0;
        if (o[y * 200 + x] !== want) wrong++;
        n += o[y * 200 + x];
      }
    }
    expect(wrong).toBe(0);
    expect(n).toBe(800);
    const flipped = { ...t, flipped: true };
    const of = maskToOriginal(m, H, W, flipped);
    expect(of[30 * 200 + (199 - 20)]).toBe(1);
    expect(of[30 * 200 + 20]).toBe(0);
    const probs = Float32Array.from(m, (v) => v * 0.9);
    const ob = maskToOriginal(probs, H, W, t, { mode: 'bilinear' });
    expect(ob[30 * 200 + 40]).toBe(1);
    expect(ob[5 * 200 + 40]).toBe(0);
    expect(() => maskToOriginal(m, 10, 10, t)).toThrow(/expected 10·10/);
  });
});
