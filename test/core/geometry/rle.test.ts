import { describe, expect, it } from 'vitest';
import {
  area,
  checkCounts,
  countsFromString,
  countsToString,
  decodeMask,
  encodeMask,
  encodeMaskRaw,
  fromUncompressed,
  merge,
  pasteRle,
  rleIou,
  toBbox,
  translateRle,
} from '../../../src-main/core/geometry/rle';

// Deterministic pseudo-random masks (LCG) so failures reproduce.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
function randomMask(r: () => number, h: number, w: number, p = 0.5) {
  const m = new Uint8Array(h * w);
  // blobs rather than noise so runs have varied lengths
  for (let i = 0; i < m.length; i++) m[i] = r() < p ? 1 : 0;
  return m;
}
function bruteBbox(m: Uint8Array, h: number, w: number) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (m[y * w + x]) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  return x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

describe('RLE string codec (pycocotools rleToString / rleFrString)', () => {
  it('encodes a 2x2 mask column-major: rows [0 1; 1 1] → counts [1,3] → "13"', () => {
    // column 0 top→bottom: 0,1; column 1: 1,1 → one 0 then three 1s
    const rle = encodeMask([0, 1, 1, 1], 2, 2);
    expect(rle).toEqual({ size: [2, 2], counts: '13' });
    expect(Array.from(decodeMask(rle))).toEqual([0, 1, 1, 1]);
  });

  it('starts with a zero-length run when the first pixel is set', () => {
    const raw = encodeMaskRaw([1, 1, 0, 0], 2, 2); // column 0 = 1,0 ; column 1 = 1,0
    expect(raw.counts).toEqual([0, 1, 1, 1, 1]);
    // i>2 stores the difference to counts[i-2]: 1-1=0, 1-1=0
    expect(countsToString(raw.counts)).toBe('01100');
  });

  it('matches a hand derivation with multi-char groups and negative deltas', () => {
    // counts [0, 5, 40, 10, 3]:
    //  0 → '0'; 5 → '5';
    //  40 = 0b1_01000: low 5 bits 8, rest 1 → first char 48+(8|0x20)=88 'X', then 48+1 '1' → "X1"
    //  i=3: 10-5 = 5 → '5'
    //  i=4: 3-40 = -37: low 5 bits 27 (has sign bit 0x10), rest -2 ≠ -1 → 48+(27|0x20)=107 'k';
    //       -2: low 5 bits 30 (sign bit set), rest -1 → stop → 48+30=78 'N'
    expect(countsToString([0, 5, 40, 10, 3])).toBe('05X15kN');
    expect(countsFromString('05X15kN')).toEqual([0, 5, 40, 10, 3]);
  });

  it('a small positive count with bit 0x10 set needs a second group (16 → "`0")', () => {
    // c = 16 has the sign bit 0x10 set and the rest is 0 (≠ -1), so another group must follow:
    // 48 + (16|0x20) = 96 '`', then the rest 0 → '0'.
    expect(countsToString([16])).toBe('`0');
    expect(countsFromString('`0')).toEqual([16]);
  });

  it('round-trips large counts (beyond 32 bits of deltas)', () => {
    const counts = [0, 2 ** 31 + 5, 7, 3, 2 ** 33, 1];
    expect(countsFromString(countsToString(counts))).toEqual(counts);
  });

  it('rejects characters outside the alphabet and cut-off groups', () => {
    expect(() => countsFromString('1 2')).toThrow(/invalid character/);
    expect(() => countsFromString('X')).toThrow(/ends inside a count/);
  });

  it('round-trips random masks bit-exactly through encode/decode', () => {
    const r = rng(1);
    for (let t = 0; t < 200; t++) {
      const h = 1 + Math.floor(r() * 13), w = 1 + Math.floor(r() * 13);
      const m = randomMask(r, h, w, r());
      const rle = encodeMask(m, h, w);
      expect(decodeMask(rle)).toEqual(m);
      expect(countsToString(countsFromString(rle.counts))).toBe(rle.counts);
    }
  });
});

describe('uncompressed ↔ compressed', () => {
  it('an integer-list RLE compresses to the same mask', () => {
    const counts = [3, 4, 0, 2, 3]; // zero-length runs are legal
    const rle = fromUncompressed([3, 4], counts);
    expect(countsFromString(rle.counts)).toEqual(counts);
    const m = decodeMask(rle);
    expect(area(rle)).toBe(6);
    expect(m.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('counts that do not sum to h·w are refused with the numbers', () => {
    expect(checkCounts([3, 4], [3, 4])).toMatch(/sum to 7, expected height·width = 3·4 = 12/);
    expect(() => fromUncompressed([3, 4], [3, 4, 6])).toThrow(/13.*12/);
    expect(checkCounts([2, 2], [1, -1, 4])).toMatch(/non-negative/);
  });
});

describe('area / toBbox / merge / iou', () => {
  it('area and toBbox equal brute force on random masks', () => {
    const r = rng(7);
    for (let t = 0; t < 300; t++) {
      const h = 1 + Math.floor(r() * 10), w = 1 + Math.floor(r() * 10);
      const m = randomMask(r, h, w, r() * 0.3);
      const rle = encodeMask(m, h, w);
      expect(area(rle)).toBe(m.reduce((a, b) => a + b, 0));
      expect(toBbox(rle)).toEqual(bruteBbox(m, h, w));
    }
  });

  it('toBbox of a hand case: a run wrapping a column boundary spans full height', () => {
    // 3x3, column-major counts [2, 2, 5]: the 1-run covers (x0,y2) and (x1,y0); pycocotools sets y to the
    // full height when a run wraps to the next column, which here is also the tight box x 0..1, y 0..2.
    expect(toBbox({ size: [3, 3], counts: [2, 2, 5] })).toEqual([0, 0, 2, 3]);
    expect(toBbox({ size: [3, 3], counts: [9] })).toEqual([0, 0, 0, 0]);
  });

  it('merge (union/intersection) equals the pixelwise result', () => {
    const r = rng(3);
    for (let t = 0; t < 100; t++) {
      const h = 1 + Math.floor(r() * 9), w = 1 + Math.floor(r() * 9);
      const a = randomMask(r, h, w), b = randomMask(r, h, w), c = randomMask(r, h, w);
      const ra = encodeMask(a, h, w), rb = encodeMask(b, h, w), rc = encodeMask(c, h, w);
      expect(decodeMask(merge([ra, rb, rc]))).toEqual(a.map((v, i) => v | b[i] | c[i]));
      expect(decodeMask(merge([ra, rb], true))).toEqual(a.map((v, i) => v & b[i]));
      const inter = a.reduce((s, v, i) => s + (v & b[i]), 0);
      const uni = a.reduce((s, v, i) => s + (v | b[i]), 0);
      expect(rleIou(ra, rb)).toBeCloseTo(uni ? inter / uni : 0, 12);
    }
    expect(() => merge([encodeMask([1], 1, 1), encodeMask([1, 1], 1, 2)])).toThrow(/different sizes/);
  });

  it('crowd iou divides by the first mask area', () => {
    const a = encodeMask([1, 1, 0, 0], 2, 2);
    const b = encodeMask([1, 1, 1, 1], 2, 2);
    expect(rleIou(a, b)).toBeCloseTo(0.5);
    expect(rleIou(a, b, true)).toBeCloseTo(1);
  });
});

describe('pasteRle / translateRle', () => {
  it('places a 2×2 mask at (1, 1) of a 3×4 canvas (hand-computed runs)', () => {
    // rows [[1,0],[1,1]]: column-major 1,1 | 0,1 → counts [0, 2, 1, 1]
    const m = encodeMaskRaw([1, 0, 1, 1], 2, 2);
    expect(m.counts).toEqual([0, 2, 1, 1]);
    // canvas pixels (x 1, y 1), (1, 2), (2, 2) → column-major positions 4, 5, 8 of 12
    const p = pasteRle(m, 1, 1, 3, 4);
    expect(p.size).toEqual([3, 4]);
    expect(countsFromString(p.counts)).toEqual([4, 2, 2, 1, 3]);
    // cut: at (−1, 2) column 0 lands at x −1 and column 1's pixel (row 1) at y 3, below the canvas → empty
    expect(countsFromString(pasteRle(m, -1, 2, 3, 4).counts)).toEqual([12]);
    // at (3, −1): column 0 → x 3, rows 0,1 → −1,0 → only (3, 0) = position 9; column 1 → x 4, outside
    expect(countsFromString(pasteRle(m, 3, -1, 3, 4).counts)).toEqual([9, 1, 2]);
    // a full-height tile: runs crossing columns stay one run
    const full = encodeMaskRaw([1, 1, 1, 1], 2, 2);
    expect(countsFromString(pasteRle(full, 1, 0, 2, 4).counts)).toEqual([2, 4, 2]);
    expect(countsFromString(translateRle(m, 1, 0).counts)).toEqual([2, 2]);
  });

  it('equals decode → shift → encode on random masks and offsets, clipping included', () => {
    const r = rng(17);
    for (let trial = 0; trial < 60; trial++) {
      const h = 1 + Math.floor(r() * 9);
      const w = 1 + Math.floor(r() * 9);
      const H = 1 + Math.floor(r() * 14);
      const W = 1 + Math.floor(r() * 14);
      const dx = Math.floor(r() * 20) - 8;
      const dy = Math.floor(r() * 20) - 8;
      const m = randomMask(r, h, w, r());
      const want = new Uint8Array(H * W);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const X = x + dx;
        const Y = y + dy;
        if (m[y * w + x] && X >= 0 && X < W && Y >= 0 && Y < H) want[Y * W + X] = 1;
      }
      expect(pasteRle(encodeMask(m, h, w), dx, dy, H, W)).toEqual(encodeMask(want, H, W));
    }
    expect(() => pasteRle(encodeMask([1], 1, 1), 0.5, 0, 2, 2)).toThrow(/integers/);
  });
});
