// Polygon → mask with the semantics of pycocotools' frPoly (so COCO areas and round trips agree with the
// reference tools), and mask → polygons by tracing pixel-edge contours.
//
// frPoly, in words: scale the vertices by 5 and round; walk every edge with a DDA so that consecutive points
// differ by at most one step; keep only the points where the walk crosses a pixel column x (an integer once
// scaled back); for each such crossing note the first row at or below the boundary; sort the crossings in
// column-major order and read them as alternating run boundaries of an RLE. Rows are clamped to [0, h].
import type { Rle } from '../../contract/schemas';
import { area as rleArea, compress, mergeRaw, decodeMask, toBbox, type RawRle } from './rle';

const SCALE = 5;

/** C's (int)(v + .5): truncation toward zero, not floor. */
const cround = (v: number) => Math.trunc(v + 0.5);

/** One ring [x1,y1,x2,y2,…] to a raw RLE of an h×w mask, as pycocotools' frPoly. */
export function polygonToRaw(ring: readonly number[], h: number, w: number): RawRle {
  const k = Math.floor(ring.length / 2);
  const xs = new Int32Array(k + 1);
  const ys = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) {
    xs[j] = cround(SCALE * ring[2 * j]);
    ys[j] = cround(SCALE * ring[2 * j + 1]);
  }
  xs[k] = xs[0];
  ys[k] = ys[0];

  // dense boundary points, upsampled
  let total = 0;
  for (let j = 0; j < k; j++) total += Math.max(Math.abs(xs[j] - xs[j + 1]), Math.abs(ys[j] - ys[j + 1])) + 1;
  const u = new Int32Array(total);
  const v = new Int32Array(total);
  let m = 0;
  for (let j = 0; j < k; j++) {
    let x0 = xs[j];
    let x1 = xs[j + 1];
    let y0 = ys[j];
    let y1 = ys[j + 1];
    const dx = Math.abs(x1 - x0);
    const dy = Math.abs(y0 - y1);
    // walk in increasing x (or y) so that rounding is the same whichever way the edge is listed
    const flip = (dx >= dy && x0 > x1) || (dx < dy && y0 > y1);
    if (flip) {
      const tx = x0;
      x0 = x1;
      x1 = tx;
      const ty = y0;
      y0 = y1;
      y1 = ty;
    }
    if (dx >= dy) {
      const s = dx === 0 ? 0 : (y1 - y0) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + x0;
        v[m] = cround(y0 + s * t);
        m++;
      }
    } else {
      const s = (x1 - x0) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + y0;
        u[m] = cround(x0 + s * t);
        m++;
      }
    }
  }

  // crossings of pixel columns, scaled back down
  const colOf = new Int32Array(m);
  const rowOf = new Int32Array(m);
  let n = 0;
  let minCol = w;
  let maxCol = -1;
  for (let j = 1; j < m; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / SCALE - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / SCALE - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    colOf[n] = xd;
    rowOf[n] = Math.ceil(yd);
    if (xd < minCol) minCol = xd;
    if (xd > maxCol) maxCol = xd;
    n++;
  }
  // sort the positions x·h + y: bucket by column (few crossings per column), then order each bucket by row
  const a = new Float64Array(n + 1);
  if (n > 0) {
    const span = maxCol - minCol + 1;
    const start = new Int32Array(span + 1);
    for (let j = 0; j < n; j++) start[colOf[j] - minCol + 1]++;
    for (let c = 0; c < span; c++) start[c + 1] += start[c];
    const fill = start.slice(0, span);
    for (let j = 0; j < n; j++) {
      const c = colOf[j] - minCol;
      const y = rowOf[j];
      let p = fill[c]++;
      while (p > start[c] && a[p - 1] > y) {
        a[p] = a[p - 1];
        p--;
      }
      a[p] = y;
    }
    for (let c = 0; c < span; c++) {
      const base = (c + minCol) * h;
      for (let p = start[c]; p < start[c + 1]; p++) a[p] += base;
    }
  }
  a[n++] = h * w;

  // differences → runs; a zero-length run joins its neighbours
  let prev = 0;
  for (let j = 0; j < n; j++) {
    const t = a[j];
    a[j] -= prev;
    prev = t;
  }
  const counts: number[] = [a[0]];
  for (let j = 1; j < n; ) {
    if (a[j] > 0) counts.push(a[j++]);
    else {
      j++;
      if (j < n) counts[counts.length - 1] += a[j++];
    }
  }
  return { size: [h, w], counts };
}

/** Pixel count of the union of rings (COCO's polygon `area`) without building the compressed string. */
export function polygonsArea(rings: readonly (readonly number[])[], h: number, w: number): number {
  if (rings.length === 0) return 0;
  const raw = rings.length === 1 ? polygonToRaw(rings[0], h, w) : mergeRaw(rings.map((r) => polygonToRaw(r, h, w)));
  return rleArea(raw);
}

/** Rings are unioned, as pycocotools does for a multi-part segmentation (so holes drawn as rings fill in). */
export function polygonsToRle(rings: readonly (readonly number[])[], h: number, w: number): Rle {
  if (rings.length === 0) return compress({ size: [h, w], counts: [h * w] });
  if (rings.length === 1) return compress(polygonToRaw(rings[0], h, w));
  return compress(mergeRaw(rings.map((r) => polygonToRaw(r, h, w))));
}

/** A box as pycocotools' frBbox: the polygon through its four corners. */
export function boxToRle(x: number, y: number, bw: number, bh: number, h: number, w: number): Rle {
  return compress(polygonToRaw([x, y, x, y + bh, x + bw, y + bh, x + bw, y], h, w));
}

/** Shoelace area of one ring (positive when clockwise in image coordinates, y down). */
export function ringArea(ring: readonly number[]): number {
  let s = 0;
  const n = ring.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    s += ring[2 * i] * ring[2 * j + 1] - ring[2 * j] * ring[2 * i + 1];
  }
  return s / 2;
}

export function ringsBbox(rings: readonly (readonly number[])[]): [number, number, number, number] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const r of rings) {
    for (let i = 0; i + 1 < r.length; i += 2) {
      x0 = Math.min(x0, r[i]);
      x1 = Math.max(x1, r[i]);
      y0 = Math.min(y0, r[i + 1]);
      y1 = Math.max(y1, r[i + 1]);
    }
  }
  if (!Number.isFinite(x0)) return [0, 0, 0, 0];
  return [x0, y0, x1 - x0, y1 - y0];
}

export interface TracedContours {
  /** Outer boundaries, clockwise in image coordinates. */
  outers: number[][];
  /** Hole boundaries, counter-clockwise. */
  holes: number[][];
}

// Directions in clockwise order in image coordinates (y down): right, down, left, up.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Trace the pixel-edge boundaries of a binary mask (row-major, h×w). Vertices lie on pixel corners (pixel
 * (x, y) spans [x, x+1]×[y, y+1], the convention under which frPoly rasterises the traced outline back to the
 * same pixels; `offset` shifts them), with collinear vertices removed. Foreground is 4-connected: pixels touching only at a corner become separate
 * outlines. Every boundary is returned; callers decide what to do with holes.
 */
export function traceContours(mask: ArrayLike<number>, h: number, w: number, offset = 0): TracedContours {
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] !== 0;
  // Directed edges with foreground on the right-hand side of travel (clockwise around foreground).
  // Key: vertex index (x + y·(w+1)); value: bitmask of outgoing directions.
  const W1 = w + 1;
  const out = new Uint8Array(W1 * (h + 1));
  let edges = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!at(x, y)) continue;
      if (!at(x, y - 1)) (out[x + y * W1] |= 1 << 0), edges++; // top edge, going right from (x,y)
      if (!at(x + 1, y)) (out[x + 1 + y * W1] |= 1 << 1), edges++; // right edge, going down from (x+1,y)
      if (!at(x, y + 1)) (out[x + 1 + (y + 1) * W1] |= 1 << 2), edges++; // bottom edge, going left
      if (!at(x - 1, y)) (out[x + (y + 1) * W1] |= 1 << 3), edges++; // left edge, going up from (x,y+1)
    }
  }
  const outers: number[][] = [];
  const holes: number[][] = [];
  if (edges === 0) return { outers, holes };
  for (let start = 0; start < out.length; start++) {
    while (out[start]) {
      // start with the lowest-numbered outgoing direction
      let dir = 0;
      while (!(out[start] & (1 << dir))) dir++;
      const pts: number[] = [];
      let vx = start % W1;
      let vy = (start - vx) / W1;
      let cur = start;
      let prevDir = -1;
      for (;;) {
        out[cur] &= ~(1 << dir);
        if (dir !== prevDir) pts.push(vx + offset, vy + offset);
        prevDir = dir;
        vx += DX[dir];
        vy += DY[dir];
        cur = vx + vy * W1;
        if (!out[cur]) break; // back at the start (every traced loop closes)
        // at a saddle, turn right first: keeps diagonal pixels apart (4-connectivity)
        const right = (dir + 1) % 4;
        const left = (dir + 3) % 4;
        if (out[cur] & (1 << right)) dir = right;
        else if (out[cur] & (1 << dir)) dir = dir;
        else if (out[cur] & (1 << left)) dir = left;
        else break;
      }
      // the first vertex may be collinear with the last run
      if (pts.length >= 6) {
        const n = pts.length;
        const [ax, ay, bx, by, cx, cy] = [pts[n - 2], pts[n - 1], pts[0], pts[1], pts[2], pts[3]];
        if ((bx - ax) * (cy - by) - (by - ay) * (cx - bx) === 0) pts.splice(0, 2);
      }
      if (pts.length < 6) continue;
      if (ringArea(pts) > 0) outers.push(pts);
      else holes.push(pts);
    }
  }
  return { outers, holes };
}

/** Mask → polygon rings (outer boundaries only) plus the number of holes that a union of rings cannot hold. */
export function rleToPolygons(rle: Rle): { rings: number[][]; holesDropped: number } {
  const w = rle.size[1];
  const [bx, by, bw, bh] = toBbox(rle);
  if (bw === 0 || bh === 0) return { rings: [], holesDropped: 0 };
  // trace only the object's box: objects are small next to their image
  const full = decodeMask(rle);
  const crop = new Uint8Array(bw * bh);
  for (let y = 0; y < bh; y++) crop.set(full.subarray((by + y) * w + bx, (by + y) * w + bx + bw), y * bw);
  const { outers, holes } = traceContours(crop, bh, bw);
  const shift = (ring: number[]) => ring.map((v, i) => v + (i % 2 === 0 ? bx : by));
  return { rings: outers.map(shift), holesDropped: holes.length };
}

/**
 * Join several rings into one outline with zero-width bridges (for formats with one polygon per object, such as
 * YOLO segmentation). Each ring is hooked onto the first ring at the pair of closest vertices, walked around
 * fully, and the walk returns along the same bridge. Rasterised, each bridge adds at most a thin line.
 */
export function bridgeRings(rings: readonly (readonly number[])[]): number[] {
  if (rings.length === 0) return [];
  const base = rings[0];
  const nBase = base.length / 2;
  const attach: { at: number; ring: readonly number[]; from: number }[] = [];
  for (let r = 1; r < rings.length; r++) {
    const ring = rings[r];
    let best = Infinity;
    let at = 0;
    let from = 0;
    for (let i = 0; i < nBase; i++) {
      for (let j = 0; j < ring.length / 2; j++) {
        const d = (base[2 * i] - ring[2 * j]) ** 2 + (base[2 * i + 1] - ring[2 * j + 1]) ** 2;
        if (d < best) {
          best = d;
          at = i;
          from = j;
        }
      }
    }
    attach.push({ at, ring, from });
  }
  const out: number[] = [];
  for (let i = 0; i < nBase; i++) {
    out.push(base[2 * i], base[2 * i + 1]);
    for (const a of attach) {
      if (a.at !== i) continue;
      const n = a.ring.length / 2;
      for (let k = 0; k <= n; k++) {
        const j = (a.from + k) % n;
        out.push(a.ring[2 * j], a.ring[2 * j + 1]);
      }
      out.push(base[2 * i], base[2 * i + 1]);
    }
  }
  return out;
}
