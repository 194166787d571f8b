// Training data pipeline benchmark (issue 5): time to build a batch of 8 augmented samples from the shapes
// demo, cold (first touch: sharp decode + EXIF + annotation rasterisation) and warm (decoded images cached:
// resample + colour jitter + targets in JS), for several training sizes.
// Run: npm run bench -- training-data
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateShapes } from '../src-main/core/demo/index';
import { createDataPipeline } from '../src-main/core/data/pipeline';
import { Rng } from '../src-main/core/data/rng';
import { VIT_AUGREG_NORM } from '../src-main/core/data/types';
import type { BenchTable } from './types';

const BATCH = 8;
const WARM_BATCHES = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<BenchTable> {
  const dir = mkdtempSync(join(tmpdir(), 'hst-bench-data-'));
  const rows: object[] = [];
  try {
    for (const [imgSize, size] of [
      [160, 160],
      [256, 224],
      [256, 256],
    ] as const) {
      const ds = await generateShapes({ count: 64, size: imgSize, seed: 3, outDir: join(dir, String(imgSize) + '-' + size), objectsPerImage: [2, 5] });
      for (const mode of ['augmented', 'eval'] as const) {
        const p = createDataPipeline({
          dataset: ds,
          classes: { names: ['circle', 'triangle', 'square'] },
          size,
          norm: VIT_AUGREG_NORM,
          seed: 1,
          augment: mode === 'augmented' ? { hflip: 0.5, scaleJitter: [0.75, 1.25], colorJitter: 0.2 } : null,
        });
        const rng = new Rng(7);
        const order = p.epochOrder(0);
        const cold: number[] = [];
        for (let b = 0; b + BATCH <= order.length; b += BATCH) {
          const t0 = performance.now();
          await p.batch(order.slice(b, b + BATCH), rng);
          cold.push(performance.now() - t0);
        }
        const warm: number[] = [];
        const warmCpu: number[] = [];
        for (let k = 0; k < WARM_BATCHES; k++) {
          const idx = Array.from({ length: BATCH }, () => rng.int(0, p.length - 1));
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await p.batch(idx, rng);
          warm.push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          warmCpu.push((c.user + c.system) / 1000);
        }
        rows.push({
          image: `${imgSize}×${imgSize} png`,
          input: `${size}×${size}`,
          mode,
          'cold batch of 8 (ms, median)': median(cold),
          'warm batch of 8 (ms, median)': median(warm),
          'warm batch of 8 (CPU ms, median)': median(warmCpu),
          'warm samples/s': (BATCH * 1000) / median(warm),
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: 'Training data pipeline: batch of 8 (decode, letterbox, augment, targets)',
    rows,
    notes: [
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}.`,
      'Shapes demo images with 2–5 instances each (RLE masks, so every sample also builds instance masks and a semantic map).',
      'cold: every image of the batch decoded by sharp (downscaled to the largest zoom) and its masks rasterised; warm: images cached, only the per-sample JS work.',
      'Wall times depend on machine load (other processes share the 2 cores); CPU ms is the process CPU time for the batch.',
      'augmented: h-flip 0.5, scale jitter [0.75, 1.25] with random placement, colour jitter 0.2; eval: centred letterbox.',
    ],
  };
}
