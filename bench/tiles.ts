// Prediction on tiles, everything but the network: cutting a 4000×3000 JPEG into 640 px tiles (overlap 96) through
// the data pipeline (each tile decoded on its own: `DatasetImage.crop`), against decoding the photo once; moving
// a tile's instance mask into the photo frame on its runs (pasteRle) against decode → place → encode; stitching
// the tiles' semantic maps. Tells whether decode or merge matter next to the model's forward passes per tile.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { decodeImage } from '../src-main/core/data/decode';
import { createDataPipeline } from '../src-main/core/data/pipeline';
import { VIT_AUGREG_NORM } from '../src-main/core/data/types';
import { decodeMask, encodeMask, pasteRle } from '../src-main/core/geometry/rle';
import { stitchTileMaps, tileGrid } from '../src-main/core/geometry/tiles';
import type { BenchTable } from './types';

const W = 4000;
const H = 3000;
const TILES = { size: 640, overlap: 96 };

async function ms(f: () => Promise<unknown> | unknown, n = 1): Promise<number> {
  await f(); // warm
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n;
}

export async function run(): Promise<BenchTable> {
  const dir = mkdtempSync(join(tmpdir(), 'hst-bench-tiles-'));
  try {
    const file = join(dir, 'photo.jpg');
    const noise = Buffer.alloc(W * H * 3);
    let s = 1;
    for (let i = 0; i < noise.length; i++) noise[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
    await sharp(noise, { raw: { width: W, height: H, channels: 3 } }).blur(2).jpeg({ quality: 90 }).toFile(file);
    const tiles = tileGrid(W, H, TILES);
    const images = tiles.map((t, i) => ({ key: String(i), fileName: `tile ${i}`, absPath: file, width: t.w, height: t.h, crop: t }));
    const rows: { operation: string; ms: number }[] = [];
    rows.push({ operation: `decode the whole ${W}×${H} JPEG once`, ms: await ms(() => decodeImage(file), 3) });
    for (const size of [224, 640]) {
      rows.push({
        operation: `${tiles.length} tiles through the pipeline (crop decode + letterbox to ${size})`,
        ms: await ms(async () => {
          const pipe = createDataPipeline({ dataset: { images, classes: [], annotations: [], issues: [] }, classes: { names: ['-'] }, size, norm: VIT_AUGREG_NORM, seed: 0, semantic: false, cacheSize: 1 });
          for (let i = 0; i < pipe.length; i++) await pipe.evalSample(i);
        }),
      });
    }
    // a blob mask filling a third of a tile
    const tileMask = new Uint8Array(640 * 640);
    for (let y = 0; y < 640; y++) for (let x = 0; x < 640; x++) tileMask[y * 640 + x] = (x - 320) ** 2 + (y - 300) ** 2 < 200 ** 2 ? 1 : 0;
    const rle = encodeMask(tileMask, 640, 640);
    const t = tiles[Math.floor(tiles.length / 2)];
    rows.push({ operation: 'pasteRle: 640×640 tile mask into the 4000×3000 frame', ms: await ms(() => pasteRle(rle, t.x, t.y, H, W), 200) });
    rows.push({
      operation: 'same by decode → place → encode (the naive way)',
      ms: await ms(() => {
        const small = decodeMask(rle);
        const big = new Uint8Array(W * H);
        for (let y = 0; y < 640; y++) big.set(small.subarray(y * 640, (y + 1) * 640), (y + t.y) * W + t.x);
        return encodeMask(big, H, W);
      }, 5),
    });
    const maps = tiles.map((_, i) => new Uint8Array(640 * 640).fill(i % 7));
    rows.push({ operation: `stitch ${tiles.length} semantic maps into 4000×3000`, ms: await ms(() => stitchTileMaps(tiles, maps, W, H), 5) });
    return {
      title: `Prediction on tiles without the network (${W}×${H} photo, tiles ${TILES.size}/${TILES.overlap}: ${tiles.length} tiles)`,
      rows: rows.map((r) => ({ operation: r.operation, ms: Math.round(r.ms * 10) / 10 })),
      notes: [
        `Node ${process.version}; 1-minute load average while measuring: ${loadavg()[0].toFixed(1)}.`,
        'Each tile is decoded from the file on its own (sharp decodes the JPEG up to the region each time): compare the tiles row with the model forward per tile before caching a decoded photo.',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
