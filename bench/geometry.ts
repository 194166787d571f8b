// Geometry codecs: COCO RLE string codec, frPoly rasterisation, mask → polygon tracing, run-based merge.
// Sizes are those of a typical labelled photo (1280×960) with object-sized shapes.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { countsFromString, countsToString, decodeMask, encodeMask, merge } from '../src-main/core/geometry/rle';
import { polygonsToRle, rleToPolygons } from '../src-main/core/geometry/rasterize';
import type { BenchTable } from './types';

const W = 1280;
const H = 960;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function ellipse(r: () => number, points: number): number[] {
  const cx = 200 + r() * (W - 400);
  const cy = 200 + r() * (H - 400);
  const rx = 20 + r() * 150;
  const ry = 20 + r() * 150;
  const ring: number[] = [];
  for (let k = 0; k < points; k++) {
    const a = (k / points) * 2 * Math.PI;
    const wobble = 0.85 + 0.3 * r();
    ring.push(cx + rx * wobble * Math.cos(a), cy + ry * wobble * Math.sin(a));
  }
  return ring;
}

function time(n: number, f: (i: number) => void): { perOpUs: number; totalMs: number } {
  f(0); // warm
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  const ms = performance.now() - t0;
  return { perOpUs: (ms * 1000) / n, totalMs: ms };
}

export async function run(): Promise<BenchTable> {
  const r = rng(5);
  const polys = Array.from({ length: 2000 }, () => ellipse(r, 24));
  const rles = polys.map((p) => polygonsToRle([p], H, W));
  const counts = rles.map((x) => countsFromString(x.counts));
  const masks = rles.slice(0, 50).map((x) => decodeMask(x));
  const rows = [
    { operation: 'frPoly: 24-point polygon → RLE (1280×960)', ...time(2000, (i) => polygonsToRle([polys[i % 2000]], H, W)) },
    { operation: 'RLE string → counts', ...time(20000, (i) => countsFromString(rles[i % 2000].counts)) },
    { operation: 'counts → RLE string', ...time(20000, (i) => countsToString(counts[i % 2000])) },
    { operation: 'merge (union) of two RLEs', ...time(5000, (i) => merge([rles[i % 2000], rles[(i + 1) % 2000]])) },
    { operation: 'decode RLE → 1280×960 mask', ...time(50, (i) => decodeMask(rles[i % 2000])) },
    { operation: 'encode 1280×960 mask → RLE', ...time(50, (i) => encodeMask(masks[i % 50], H, W)) },
    { operation: 'mask → polygons (contour tracing, 1280×960)', ...time(50, (i) => rleToPolygons(rles[i % 2000])) },
  ].map((x) => ({ operation: x.operation, 'µs per op': Math.round(x.perOpUs * 10) / 10 }));
  return {
    title: 'Geometry codecs (RLE, rasterisation, tracing)',
    rows,
    notes: [
      `Node ${process.version}; shapes are 24-point ellipses of 40–300 px on a ${W}×${H} image.`,
      `1-minute load average while measuring: ${loadavg()[0].toFixed(1)} (the machine is shared; numbers are upper bounds).`,
      'Whole-image operations (decode, encode, tracing) touch all 1.2 M pixels; run-based ones (merge, codec) scale with the number of runs.',
    ],
  };
}
