// The one planner's decisions: input size from the objects' sizes, tiling for large photos with small objects,
// the held-out val split, the CPU time budget, overrides, and a time estimate that a measurement replaces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateRun, PIXEL_EXPONENT, readCosts, recordCost } from '../../../src-main/core/training/cost-model';
import { chooseSize, CPU_TRAIN_BUDGET_S, formatPlan, MIN_OBJECT_PX, planTrainingRun, TILE_FIXED_SHARE, tilesPerImage, type PlanInput } from '../../../src-main/core/training/plan';
import type { PlanStats } from '../../../src-main/core/training/plan-stats';

const VIT_TI = { embed_dim: 192, depth: 12, patch_size: 16 };
const WASM = { name: 'wasm', accelerated: false };

/** n images of w×h per split, each with objects of the given sides (pixels), classes cycling a, b, c */
function stats(o: { train: number; val?: number; w: number; h: number; sides: number[] }): PlanStats {
  const s: PlanStats = { trainImages: o.train, valImages: o.val ?? 0, labelled: [], imageSizes: [], objects: [], classes: 3 };
  for (let i = 0; i < o.train + (o.val ?? 0); i++) {
    s.labelled.push({ key: String(i + 1), classes: [['a', 'b', 'c'][i % 3]], split: i < o.train ? 'train' : 'val' });
    s.imageSizes.push({ width: o.w, height: o.h });
    for (const side of o.sides) s.objects.push({ side, imageMax: Math.max(o.w, o.h) });
  }
  return s;
}

/** what a fast CPU run at 384 px spends before training: the cache fill of its samples and 6 evaluations */
const fixedInput = (train: number, val: number, perImage: number) => ({
  backend: 'wasm', mode: 'fast' as const, side: 'lite', accelerated: false, size: 384, batchSize: 1, steps: 0,
  cachePasses: Math.round(train * perImage) * 2 + Math.round(val * perImage), vitShape: VIT_TI, evaluations: 6, valSamples: Math.round(val * perImage),
});

const input = (st: PlanStats, extra: Partial<PlanInput> = {}): PlanInput => ({ stats: st, tasks: ['detect'], backend: WASM, backbone: { id: 'random', shape: VIT_TI }, ...extra });

describe('input size from the objects', () => {
  it('keeps the base size when the smallest objects stay ≥ 16 px there (the demo: 128 px photos, 20+ px objects)', () => {
    const p = planTrainingRun(input(stats({ train: 40, val: 8, w: 128, h: 128, sides: [20, 40] })));
    expect(p).toMatchObject({ size: 128, batchSize: 8, mode: 'fast', side: 'lite', tiles: null });
  });

  it('grows the input until the 10th-percentile object is ≥ MIN_OBJECT_PX after resizing', () => {
    // 640×480 photos, objects of 12 px: need 16/(12/640) = 853 px > 384 → tiles; objects of 30 px: 341 → 352
    const p = planTrainingRun(input(stats({ train: 40, val: 8, w: 640, h: 480, sides: [30, 200] })));
    expect(p.size).toBe(352);
    expect((30 / 640) * p.size).toBeGreaterThanOrEqual(MIN_OBJECT_PX);
    expect((30 / 640) * (p.size - 32)).toBeLessThan(MIN_OBJECT_PX); // the smallest such multiple of 32
    expect(p.batchSize).toBe(4); // > 256 px on CPU: half the batch (wasm's 4 GB heap)
    expect(p.tiles).toBeNull();
  });

  it('tiles 4000×3000 photos with small objects instead of shrinking them', () => {
    const c = chooseSize(stats({ train: 10, w: 4000, h: 3000, sides: [40, 60, 300] }), 128, 384);
    expect(c.size).toBe(384);
    expect(c.tiles).not.toBeNull();
    const t = c.tiles!;
    // a 40 px object in a tile of t.size px resized to 384 stays ≥ 16 px
    expect((40 * 384) / t.size).toBeGreaterThanOrEqual(MIN_OBJECT_PX);
    expect(t.overlap).toBeGreaterThan(0);
    expect(t.overlap).toBeLessThanOrEqual(t.size / 2);
    expect(t.perImage).toBeGreaterThan(4);
    // tiling off: the largest size, and the reason says how small the objects become
    const off = chooseSize(stats({ train: 10, w: 4000, h: 3000, sides: [40, 60, 300] }), 128, 384, false);
    expect(off).toMatchObject({ size: 384, tiles: null });
    expect(off.reason).toMatch(/tiling off/);
  });

  it('without tiling (tilingSupported: false), a plan that needs tiles says so and trains at the largest size', () => {
    const st = stats({ train: 40, val: 8, w: 4000, h: 3000, sides: [40, 60, 300] });
    const p = planTrainingRun(input(st, { tilingSupported: false }));
    expect(p).toMatchObject({ size: 384, tiles: null });
    expect(p.reasons!.join(' ')).toMatch(/384 px, the largest this backend affords; tiles of \d+ px .* training on tiles is not available yet/);
    const t = planTrainingRun(input(st));
    expect(t.tiles).not.toBeNull();
    expect(t.estimate!.cacheSeconds).toBeGreaterThan(p.estimate!.cacheSeconds); // every tile is a ViT pass
  });

  it('on CPU, grows the tiles until the cache fill and evaluations take at most half the budget, and says so', () => {
    // 40 + 8 photos of 4000×3000, objects of 40 px: tiles of 40·384/16 = 960 px, overlap 300 (the larger objects
    // that fit half a tile) → starts every 660 px: 6 × 5 = 30 per photo; ViT-Ti at 384 px is ~9.2 GFLOP, 0.23 s a
    // pass at 40 GFLOP/s: 30 · (40·2 + 8) passes ≈ 607 s of cache alone, more than the 300 s allowed
    const st = stats({ train: 40, val: 8, w: 4000, h: 3000, sides: [40, 60, 300] });
    const first = chooseSize(st, 128, 384).tiles!;
    expect(first).toEqual({ size: 960, overlap: 300, perImage: 30 });
    const p = planTrainingRun(input(st));
    const t = p.tiles!;
    expect(t.size).toBeGreaterThan(first.size);
    expect(t.perImage).toBeLessThan(first.perImage);
    const fixed = estimateRun({ backend: 'wasm', mode: 'fast', side: 'lite', accelerated: false, size: 384, batchSize: 1, steps: 0, cachePasses: Math.round(40 * t.perImage) * 2 + Math.round(8 * t.perImage), vitShape: VIT_TI, evaluations: 6, valSamples: Math.round(8 * t.perImage) });
    expect(fixed.seconds).toBeLessThanOrEqual(CPU_TRAIN_BUDGET_S * TILE_FIXED_SHARE);
    // the next smaller tiles (÷1.25) would not have fitted: the tiles are no larger than needed
    const smaller = Math.round(t.size / 1.25);
    const perSmaller = tilesPerImage(st, { size: smaller, overlap: Math.min(Math.floor(smaller / 2), Math.max(Math.round(smaller * 0.1), 300)) });
    expect(estimateRun({ ...fixedInput(40, 8, perSmaller) }).seconds).toBeGreaterThan(CPU_TRAIN_BUDGET_S * TILE_FIXED_SHARE);
    expect(p.reasons!.join(' ')).toMatch(new RegExp(`tiles of ${t.size} px .* grown from 960 px \\(~30 per photo\\) so the feature cache and evaluations .* leave 50 % of the 10-minute CPU budget to training`));
    expect(formatPlan(p)).toContain(`tiles ${t.size} px, overlap ${t.overlap}, ~${t.perImage}/photo`);
    // a GPU backend has no such budget: the smallest tiles that keep the objects, at its largest size (640)
    expect(planTrainingRun(input(st, { backend: { name: 'webgpu', accelerated: true } })).tiles).toEqual(chooseSize(st, 224, 640).tiles);
  });

  it('on CPU, trains whole photos with a reason when even tiles that barely cut the photos do not fit the budget', () => {
    const st = stats({ train: 400, val: 60, w: 4000, h: 3000, sides: [40, 60, 300] });
    const p = planTrainingRun(input(st));
    expect(p).toMatchObject({ size: 384, tiles: null });
    expect(p.reasons!.join(' ')).toMatch(/384 px, whole photos: tiles of 960 px \(~30 per photo\) would spend ~\d+ s on the feature cache and evaluations, and even tiles that barely cut the photos take more than 50 % of the 10-minute CPU budget/);
  });

  it('grows tiles that would be more than 64 per photo instead of giving up on tiling', () => {
    // 8 px objects in 4000×3000 photos: tiles of 8·384/16 = 192 px would be ~22 × 17 per photo
    const st = stats({ train: 10, w: 4000, h: 3000, sides: [8, 12] });
    const c = chooseSize(st, 128, 384);
    expect(tilesPerImage(st, { size: 192, overlap: 19 })).toBeGreaterThan(64);
    expect(c.tiles!.perImage).toBeLessThanOrEqual(64);
    expect(tilesPerImage(st, { size: Math.round(c.tiles!.size / 1.25), overlap: c.tiles!.overlap })).toBeGreaterThan(64);
    expect(c.reason).toMatch(/tiles of 192 px would need more than 64 per photo: the smallest objects become [\d.]+ px/);
  });

  it('the tiles are sized for the project\'s large photos, not for small photos\' small objects', () => {
    // 640×480 photos with 14 px objects (8 px at 384 whatever the tiles) beside 4000×3000 photos with 80 px ones
    const small = stats({ train: 20, w: 640, h: 480, sides: [14, 200] });
    const big = stats({ train: 20, w: 4000, h: 3000, sides: [80, 1200] });
    const mixed: PlanStats = { ...big, trainImages: 40, labelled: [...small.labelled, ...big.labelled.map((l) => ({ ...l, key: `b${l.key}` }))], imageSizes: [...small.imageSizes, ...big.imageSizes], objects: [...small.objects, ...big.objects] };
    const c = chooseSize(mixed, 128, 384);
    expect(c.tiles!.size).toBe(Math.floor((80 * 384) / MIN_OBJECT_PX)); // 1920 px, from the large photos' 80 px objects
    expect(c.reason).toMatch(/the smallest objects \(80 px in photos up to 4000 px\)/);
    // when the CPU budget grows the tiles, the reason gives the large photos' small objects after resizing
    const grown = planTrainingRun(input({ ...mixed, trainImages: 200, labelled: Array.from({ length: 200 }, (_, i) => ({ key: String(i), classes: ['a'], split: 'train' as const })), imageSizes: [...Array(100).fill({ width: 640, height: 480 }), ...Array(100).fill({ width: 4000, height: 3000 })] }));
    const t = grown.tiles!;
    expect(t.size).toBeGreaterThan(1920);
    expect(grown.reasons!.join(' ')).toContain(`the smallest objects become ${Math.round(((80 * 384) / t.size) * 10) / 10} px`);
  });

  it('a large photo with large objects is shrunk, not tiled', () => {
    expect(chooseSize(stats({ train: 10, w: 4000, h: 3000, sides: [900, 1500] }), 128, 384)).toMatchObject({ size: 128, tiles: null });
  });

  it('the user\'s size wins over the objects', () => {
    expect(planTrainingRun(input(stats({ train: 40, w: 4000, h: 3000, sides: [40] }), { overrides: { size: 192 } }))).toMatchObject({ size: 192, tiles: null });
  });
});

describe('val split', () => {
  it('uses the project\'s val split when it has one', () => {
    const p = planTrainingRun(input(stats({ train: 40, val: 8, w: 128, h: 128, sides: [30] })));
    expect(p.val).toEqual({ source: 'project', fraction: null, seed: null, keys: [] });
    expect(p).toMatchObject({ trainImages: 40, valImages: 8 });
  });

  it('holds out ~15 % when there is none, and says so', () => {
    const p = planTrainingRun(input(stats({ train: 162, w: 500, h: 375, sides: [120] })));
    expect(p.val?.source).toBe('holdout');
    expect(p.valImages).toBe(Math.round(162 * 0.15));
    expect(p.trainImages).toBe(162 - p.valImages);
    expect(p.val?.keys).toHaveLength(p.valImages);
    expect(formatPlan(p)).toMatch(/held out by the studio: 15 %, seed 0/);
    const other = planTrainingRun(input(stats({ train: 162, w: 500, h: 375, sides: [120] }), { overrides: { valSeed: 7, valFraction: 0.2 } }));
    expect(other.valImages).toBe(Math.round(162 * 0.2));
    expect(other.val?.keys).not.toEqual(p.val?.keys);
  });
});

describe('steps, budget and overrides', () => {
  it('caps CPU steps so the whole run (cache fill, steps, evaluations) fits the time budget, and says so', () => {
    // 2000 train images at 128 px: 6 epochs would be 1500 steps of ~0.76 s
    const st = stats({ train: 2000, val: 200, w: 128, h: 128, sides: [30] });
    const p = planTrainingRun(input(st));
    expect(p.steps).toBeLessThan(1500);
    expect(p.estimate!.seconds).toBeLessThanOrEqual(CPU_TRAIN_BUDGET_S + 2 * (p.estimate!.stepMs / 1000));
    expect(p.estimate!.seconds).toBeGreaterThan(CPU_TRAIN_BUDGET_S * 0.9);
    expect(p.reasons!.join(' ')).toMatch(/CPU budget after ~\d+ s of feature cache and evaluations/);
    expect(planTrainingRun(input(st, { overrides: { steps: 4000 } })).steps).toBe(4000);
    // where the cache fill alone takes the budget, the run still gets its minimum of 50 steps
    expect(planTrainingRun(input(stats({ train: 1500, val: 100, w: 640, h: 480, sides: [30] }))).steps).toBe(50);
  });

  it('an accelerated backend plans full mode at 224 px (webgpu with a batch of 8)', () => {
    const p = planTrainingRun(input(stats({ train: 40, val: 8, w: 224, h: 224, sides: [60] }), { backend: { name: 'webgpu', accelerated: true } }));
    expect(p).toMatchObject({ mode: 'full', size: 224, batchSize: 8, lr: 2e-3, backend: 'webgpu' });
    expect(p.side).toBeUndefined();
  });

  it('the tiny preset is seconds long', () => {
    expect(planTrainingRun(input(stats({ train: 4, val: 2, w: 64, h: 64, sides: [20] }), { overrides: { preset: 'tiny' } }))).toMatchObject({ size: 64, steps: 5, batchSize: 2, evalEvery: 0 });
  });

  it('refuses a project without labelled train images', () => {
    expect(() => planTrainingRun(input(stats({ train: 0, w: 64, h: 64, sides: [] })))).toThrow(/no labelled image/);
  });
});

describe('time estimate', () => {
  it('scales with steps, batch and pixels; a measurement on this machine replaces the reference', () => {
    const base = { backend: 'wasm', mode: 'fast' as const, side: 'lite', accelerated: false, size: 128, batchSize: 8, steps: 300, cachePasses: 0, vitShape: VIT_TI, evaluations: 0, valSamples: 0 };
    const ref = estimateRun(base);
    expect(ref.basis).toBe('reference');
    expect(ref.stepMs).toBe(95 * 8); // bench/results/finetune.md: 10.5 img/s at batch 8
    // sublinear in the pixels: 384 px costs 9^0.65 ≈ 4.2× of 128 px (measured 95 → 400 ms/img for 'lite')
    expect(estimateRun({ ...base, size: 256 }).stepMs).toBe(Math.round(4 ** PIXEL_EXPONENT * 95 * 8));
    expect(estimateRun({ ...base, size: 384, batchSize: 1 }).stepMs).toBeGreaterThan(380);
    expect(estimateRun({ ...base, size: 384, batchSize: 1 }).stepMs).toBeLessThan(420);
    expect(estimateRun({ ...base, steps: 600 }).seconds).toBeCloseTo(2 * ref.seconds, -1);
    const dir = mkdtempSync(join(tmpdir(), 'hst-cost-'));
    try {
      recordCost(dir, { backend: 'wasm', mode: 'fast', side: 'lite' }, 256, 2); // 2 img/s at 256 px = 500 ms → 500 / 4^0.65 at 128
      const costs = readCosts(dir);
      expect(costs).toHaveLength(1);
      const m = estimateRun(base, costs);
      expect(m.basis).toBe('measured');
      expect(m.stepMs).toBe(Math.round((500 / 4 ** PIXEL_EXPONENT) * 8));
      const p = planTrainingRun({ ...input(stats({ train: 40, val: 8, w: 128, h: 128, sides: [30] })), costs });
      expect(p.estimate?.basis).toBe('measured');
      expect(formatPlan(p)).toMatch(/on this machine \(measured here\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what fills the cache', () => {
  it('onnxruntime fills it at 100 GFLOP/s against tfjs\'s 40, so the same budget affords more tiles', () => {
    const pass = { backend: 'wasm', mode: 'fast' as const, side: 'lite', accelerated: false, size: 384, batchSize: 4, steps: 0, cachePasses: 100, vitShape: VIT_TI, evaluations: 0, valSamples: 0 };
    const tfjs = estimateRun(pass).cacheSeconds;
    const ort = estimateRun({ ...pass, vitRuntime: 'onnxruntime' }).cacheSeconds;
    expect(ort / tfjs).toBeCloseTo(0.4, 1);
    const st = stats({ train: 40, val: 8, w: 4000, h: 3000, sides: [40, 60, 300] });
    const slow = planTrainingRun(input(st)).tiles!;
    const fast = planTrainingRun(input(st, { backend: { name: 'wasm', accelerated: false, vitRuntime: 'onnxruntime' } })).tiles!;
    expect(fast.size).toBeLessThan(slow.size);
    expect(fast.perImage).toBeGreaterThan(slow.perImage);
  });
});
