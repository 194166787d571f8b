// COCO run-length encoding, compatible with pycocotools' maskApi:
// - masks are read column-major (Fortran order: down each column, then the next column);
// - counts alternate runs of 0s and 1s, starting with 0s (a mask starting with a 1 has a leading 0 count);
// - the compressed string stores each count (for i > 2: the difference to the count two places back) as
//   little-endian groups of 5 bits, each group as a char 48 + (bits | 0x20 if more groups follow); the last
//   group's bit 0x10 is the sign. Arithmetic is done with plain numbers (not 32-bit bitwise ops) so counts
//   up to 2^53 survive.
import type { Rle } from '../../contract/schemas';

export interface RawRle {
  /** [height, width], as in pycocotools */
  size: [number, number];
  counts: number[];
}

/** Encode counts to the pycocotools string form. */
export function countsToString(counts: readonly number[]): string {
  const codes: number[] = [];
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    const small = x >= -0x40000000 && x < 0x40000000; // int32 fast path; larger values use exact float maths
    for (;;) {
      const c = small ? x & 31 : ((x % 32) + 32) % 32; // low 5 bits, also for negatives (two's complement view)
      x = small ? x >> 5 : Math.floor(x / 32); // arithmetic shift right by 5
      const more = c & 0x10 ? x !== -1 : x !== 0;
      codes.push(48 + (more ? c | 0x20 : c));
      if (!more) break;
    }
    if (codes.length > 8192) {
      s += String.fromCharCode(...codes);
      codes.length = 0;
    }
  }
  return s + String.fromCharCode(...codes);
}

/** Decode the pycocotools string form; throws on characters outside the codec's alphabet or a cut-off group. */
export function countsFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  const n = s.length;
  while (p < n) {
    let x = 0;
    let scale = 1; // 2^(5k), kept as a number so counts past 2^31 stay exact
    let c = 0;
    do {
      if (p >= n) throw new Error(`RLE string ends inside a count (at character ${p})`);
      c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new Error(`RLE string has an invalid character '${s[p]}' at ${p}`);
      x += (c & 0x1f) * scale;
      scale *= 32;
      p++;
    } while (c & 0x20);
    if (c & 0x10) x -= scale; // sign-extend
    const m = counts.length;
    if (m > 2) x += counts[m - 2];
    counts.push(x);
  }
  return counts;
}

/** Checks that counts are non-negative and sum to h·w; returns a sentence describing the problem, or null. */
export function checkCounts(size: readonly [number, number], counts: readonly number[]): string | null {
  const [h, w] = size;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!Number.isInteger(c) || c < 0) return `RLE count ${i} is ${c}, expected a non-negative integer`;
    sum += c;
  }
  if (sum !== h * w) return `RLE counts sum to ${sum}, expected height·width = ${h}·${w} = ${h * w}`;
  return null;
}

export function compress(raw: RawRle): Rle {
  return { size: [raw.size[0], raw.size[1]], counts: countsToString(raw.counts) };
}

export function decompress(rle: Rle): RawRle {
  return { size: [rle.size[0], rle.size[1]], counts: countsFromString(rle.counts) };
}

/** Encode a binary mask given row-major (the usual image layout), h rows × w columns; nonzero = 1. */
export function encodeMask(mask: ArrayLike<number>, h: number, w: number): Rle {
  return compress(encodeMaskRaw(mask, h, w));
}

export function encodeMaskRaw(mask: ArrayLike<number>, h: number, w: number): RawRle {
  if (mask.length !== h * w) throw new Error(`mask has ${mask.length} pixels, expected ${h}·${w}`);
  const counts: number[] = [];
  let cur = 0;
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x] ? 1 : 0;
      if (v !== cur) {
        counts.push(run);
        run = 0;
        cur = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [h, w], counts };
}

/** Decode to a row-major Uint8Array of 0/1, h rows × w columns. */
export function decodeMask(rle: Rle | RawRle): Uint8Array {
  const raw = typeof rle.counts === 'string' ? decompress(rle as Rle) : (rle as RawRle);
  const [h, w] = raw.size;
  const problem = checkCounts(raw.size, raw.counts);
  if (problem) throw new Error(problem);
  const out = new Uint8Array(h * w);
  let pos = 0; // column-major position
  for (let i = 0; i < raw.counts.length; i++) {
    const n = raw.counts[i];
    if (i % 2 === 1) {
      for (let k = 0; k < n; k++) {
        const p = pos + k;
        const x = Math.floor(p / h);
        out[(p - x * h) * w + x] = 1;
      }
    }
    pos += n;
  }
  return out;
}

function rawOf(rle: Rle | RawRle): RawRle {
  return typeof rle.counts === 'string' ? decompress(rle as Rle) : (rle as RawRle);
}

export function area(rle: Rle | RawRle): number {
  const { counts } = rawOf(rle);
  let a = 0;
  for (let i = 1; i < counts.length; i += 2) a += counts[i];
  return a;
}

/** Tight box [x, y, w, h] around the 1-pixels, as pycocotools' toBbox (all zeros for an empty mask). */
export function toBbox(rle: Rle | RawRle): [number, number, number, number] {
  const { size, counts } = rawOf(rle);
  const [h, w] = size;
  const m = Math.floor(counts.length / 2) * 2; // a trailing run of 0s does not matter
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let xp = 0;
  let cc = 0;
  let any = false;
  for (let j = 0; j < m; j++) {
    cc += counts[j];
    const t = cc - (j % 2); // first 1-pixel of a run, or last 1-pixel of a run
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      // the run wraps over a column boundary, so it covers whole columns' tops and bottoms
      ys = 0;
      ye = h - 1;
    }
    if (j % 2 === 1 && counts[j] > 0) any = true;
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  if (!any) return [0, 0, 0, 0];
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** Union (or intersection) of masks of the same size, computed on runs without decoding. */
export function merge(rles: (Rle | RawRle)[], intersect = false): Rle {
  return compress(mergeRaw(rles.map(rawOf), intersect));
}

export function mergeRaw(raws: RawRle[], intersect = false): RawRle {
  if (raws.length === 0) throw new Error('merge needs at least one mask');
  const size = raws[0].size;
  let acc = raws[0];
  for (let i = 1; i < raws.length; i++) {
    const b = raws[i];
    if (b.size[0] !== size[0] || b.size[1] !== size[1]) {
      throw new Error(`cannot merge masks of different sizes ${size.join('x')} and ${b.size.join('x')}`);
    }
    acc = mergeTwo(acc, b, intersect);
  }
  return { size: [size[0], size[1]], counts: acc.counts.slice() };
}

function mergeTwo(a: RawRle, b: RawRle, intersect: boolean): RawRle {
  const total = a.size[0] * a.size[1];
  const out: number[] = [];
  let outVal = 0;
  let outRun = 0;
  let ia = 0;
  let ib = 0;
  let ra = a.counts[0] ?? total;
  let rb = b.counts[0] ?? total;
  let pos = 0;
  while (pos < total) {
    // skip exhausted zero-length runs
    while (ra === 0 && ia < a.counts.length - 1) ra = a.counts[++ia];
    while (rb === 0 && ib < b.counts.length - 1) rb = b.counts[++ib];
    const va = ia % 2;
    const vb = ib % 2;
    const step = Math.min(ra, rb, total - pos);
    if (step <= 0) break;
    const v = intersect ? va & vb : va | vb;
    if (v !== outVal) {
      out.push(outRun);
      outRun = 0;
      outVal = v;
    }
    outRun += step;
    ra -= step;
    rb -= step;
    pos += step;
  }
  out.push(outRun);
  return { size: a.size, counts: out };
}

/** Intersection-over-union of two masks; with `crowd`, divides by the first mask's area as COCOeval does for crowd gt. */
export function rleIou(a: Rle | RawRle, b: Rle | RawRle, crowd = false): number {
  const ra = rawOf(a);
  const rb = rawOf(b);
  const inter = area(mergeTwo(ra, rb, true));
  const denom = crowd ? area(ra) : area(ra) + area(rb) - inter;
  return denom > 0 ? inter / denom : 0;
}

/** Convert an uncompressed RLE (integer counts, as in COCO iscrowd annotations) to the compressed form. */
export function fromUncompressed(size: [number, number], counts: number[]): Rle {
  const problem = checkCounts(size, counts);
  if (problem) throw new Error(problem);
  return compress({ size, counts });
}

/**
 * The mask placed with its top-left pixel at (dx, dy) of a height×width canvas, 0 elsewhere; what falls outside
 * the canvas is cut off (offsets may be negative). Works on the runs: a tile's mask goes into its photo's frame
 * in time proportional to its runs and columns, never decoding a photo-size bitmap. Column-major order is kept
 * by the move (a later source column lands in a later canvas column), so the 1-runs come out already sorted.
 */
export function pasteRle(rle: Rle | RawRle, dx: number, dy: number, height: number, width: number): Rle {
  return compress(pasteRaw(rawOf(rle), dx, dy, height, width));
}

/** The mask moved by (dx, dy) within its own size (what leaves the frame is lost). */
export function translateRle(rle: Rle | RawRle, dx: number, dy: number): Rle {
  const raw = rawOf(rle);
  return compress(pasteRaw(raw, dx, dy, raw.size[0], raw.size[1]));
}

export function pasteRaw(raw: RawRle, dx: number, dy: number, height: number, width: number): RawRle {
  if (![dx, dy, height, width].every(Number.isInteger) || height < 0 || width < 0) throw new Error(`paste at (${dx}, ${dy}) into ${height}×${width}: integers and a non-negative size are needed`);
  const problem = checkCounts(raw.size, raw.counts);
  if (problem) throw new Error(problem);
  const h = raw.size[0];
  const out: number[] = [];
  let last = 0; // canvas position just after the last 1-run written
  const emit = (a: number, b: number) => {
    if (out.length > 0 && a === last) out[out.length - 1] += b - a; // continues the previous 1-run
    else out.push(a - last, b - a);
    last = b;
  };
  let pos = 0;
  for (let i = 0; i < raw.counts.length; i++) {
    const n = raw.counts[i];
    if (i % 2 === 1 && n > 0) {
      const end = pos + n;
      for (let p = pos; p < end; ) {
        const c = Math.floor(p / h);
        const r = p - c * h;
        const segEnd = Math.min(end, (c + 1) * h); // this run's part in source column c
        const x = c + dx;
        if (x >= 0 && x < width) {
          const y0 = Math.max(0, r + dy);
          const y1 = Math.min(height, r + (segEnd - p) + dy);
          if (y1 > y0) emit(x * height + y0, x * height + y1);
        }
        p = segEnd;
      }
    }
    pos += n;
  }
  const total = height * width;
  if (out.length === 0) out.push(total);
  else if (total > last) out.push(total - last);
  return { size: [height, width], counts: out };
}
