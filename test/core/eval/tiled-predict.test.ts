// Prediction on tiles: a photo is predicted tile by tile and the results come back in the photo's pixels,
// exactly as if each tile had been cut out as a file of its own and predicted there; duplicates seen by two
// overlapping tiles are merged; the whole-photo evaluation of a tiled model scores the merged predictions.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { createDataPipeline } from '../../../src-main/core/data/pipeline';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import type { Dataset, DatasetImage } from '../../../src-main/core/datasets/types';
import { evaluateModel, evaluateOnPhotos } from '../../../src-main/core/eval/evaluate-model';
import { predictAll } from '../../../src-main/core/eval/predict-all';
import { mergeTilePredictions, predictTiled } from '../../../src-main/core/eval/tiled-predict';
import { decodeMask, encodeMask } from '../../../src-main/core/geometry/rle';
import { tileGrid } from '../../../src-main/core/geometry/tiles';
import { buildTaskModel } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings, type PredictInput, type TaskModel, type TaskPrediction } from '../../../src-main/core/task-model/task-model';

const W = 96;
const H = 64;
const TILES = { size: 48, overlap: 16 };
const CLASSES = ['a', 'b'];

/** A W×H black photo with white squares [x, y, side]; noise elsewhere for the random model to react to. */
async function writePhoto(file: string, squares: [number, number, number][], noise: boolean): Promise<void> {
  const px = Buffer.alloc(W * H * 3);
  let s = 7;
  for (let i = 0; i < px.length; i++) px[i] = noise ? (s = (s * 1103515245 + 12345) >>> 0) >>> 26 : 0;
  for (const [x0, y0, side] of squares) for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) px.fill(255, 3 * (y * W + x), 3 * (y * W + x) + 3);
  await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
}

function photoDataset(files: string[]): Dataset {
  return { images: files.map((f, i) => ({ key: String(i + 1), fileName: `p${i}.png`, absPath: f, width: 0, height: 0, split: 'val' as const })), classes: CLASSES.map((name) => ({ name })), annotations: [], issues: [] };
}

describe('tiled prediction', () => {
  let dir: string;
  let model: TaskModel;
  let photo: string;

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-tiled-'));
    photo = join(dir, 'photo.png');
    await writePhoto(photo, [[36, 20, 10], [66, 4, 10]], true);
    model = buildTaskModel({
      format: 'hst-studio-task-model', version: 1,
      hst: { img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] },
      heads: defaultHeadSettings(['detect', 'instance', 'semantic'], CLASSES.length, { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1, detStrides: [8, 16], semanticStrides: [8, 16] }),
      classes: CLASSES, inputSize: 32, norm: VIT_AUGREG_NORM, backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 5,
    });
  }, 60_000);
  afterAll(() => {
    model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('equals predicting each tile cut out as its own file, moved into the photo and merged', async () => {
    const tiles = tileGrid(W, H, TILES);
    expect(tiles).toHaveLength(6); // x 0, 24, 48 × y 0, 16
    // each tile written as a file of its own (PNG: lossless, so the same pixels)
    const tileFiles: DatasetImage[] = [];
    for (const [i, t] of tiles.entries()) {
      const f = join(dir, `tile${i}.png`);
      await sharp(photo).extract({ left: t.x, top: t.y, width: t.w, height: t.h }).png().toFile(f);
      tileFiles.push({ key: String(i), fileName: `tile${i}.png`, absPath: f, width: t.w, height: t.h });
    }
    const direct = await predictAll(model, createDataPipeline({ dataset: { images: tileFiles, classes: [], annotations: [], issues: [] }, classes: { names: CLASSES }, size: 32, norm: VIT_AUGREG_NORM, seed: 0, semantic: false }), { scoreThreshold: 0 });
    expect(direct).toHaveLength(6);
    const perTile = direct.map((d) => d.prediction);
    const want = mergeTilePredictions(tiles, perTile, W, H);

    const progress: string[] = [];
    const [got] = await predictTiled(model, photoDataset([photo]), { tiles: TILES, size: 32, norm: VIT_AUGREG_NORM, scoreThreshold: 0, onPhoto: (p, done, n) => progress.push(`${p?.key} ${done}/${n}`) });
    expect(progress).toEqual(['1 1/1']);
    expect(got.key).toBe('1');
    expect(got.prediction.transform.origW).toBe(W);
    expect(got.prediction.transform.origH).toBe(H);
    expect(got.prediction.objects!.length).toBeGreaterThan(3);
    expect(got.prediction.objects).toEqual(want.objects);
    expect(got.prediction.semantic).toEqual(want.semantic);

    // every merged object is some tile's object moved by the tile's offset, its mask pasted at the same place
    let beyondFirstTile = 0;
    let masked = 0;
    let checked = 0;
    for (const o of got.prediction.objects!) {
      const [x, y, w, h] = o.bbox;
      expect(x).toBeGreaterThanOrEqual(-1e-3);
      expect(y).toBeGreaterThanOrEqual(-1e-3);
      expect(x + w).toBeLessThanOrEqual(W + 1e-3);
      expect(y + h).toBeLessThanOrEqual(H + 1e-3);
      if (x + w > TILES.size) beyondFirstTile++;
      const from = tiles.findIndex((t, i) => perTile[i].objects!.some((q) => q.score === o.score && Math.abs(q.bbox[0] + t.x - x) < 1e-4 && Math.abs(q.bbox[1] + t.y - y) < 1e-4));
      expect(from).toBeGreaterThanOrEqual(0);
      const t = tiles[from];
      const q = perTile[from].objects!.find((q) => q.score === o.score && Math.abs(q.bbox[0] + t.x - x) < 1e-4 && Math.abs(q.bbox[1] + t.y - y) < 1e-4)!;
      expect(o.rle!.size).toEqual([H, W]);
      if (checked++ >= 40) continue; // masks of the first 40 suffice (each check decodes two bitmaps)
      const small = decodeMask(q.rle!);
      const placed = new Uint8Array(W * H);
      for (let yy = 0; yy < t.h; yy++) for (let xx = 0; xx < t.w; xx++) placed[(yy + t.y) * W + xx + t.x] = small[yy * t.w + xx];
      expect(decodeMask(o.rle!)).toEqual(placed);
      masked += placed.some((v) => v) ? 1 : 0;
    }
    expect(beyondFirstTile).toBeGreaterThan(0); // photo pixels, not a tile's
    expect(masked).toBeGreaterThan(0);
  }, 30_000);

  it('leaves out a photo it cannot read, with one warning naming it, and predicts the rest; a region is tiled within itself', async () => {
    const bad = join(dir, 'bad.png');
    writeFileSync(bad, 'not an image');
    const ds = photoDataset([photo, join(dir, 'missing.png'), bad, photo]);
    ds.images[1].absPath = null;
    // the fourth image is the photo's right half (x 48..95): tiles are cut from that region, results in its pixels
    ds.images[3].crop = { x: 48, y: 0, w: 48, h: 64 };
    const warnings: string[] = [];
    const done: (string | null)[] = [];
    const out = await predictTiled(model, ds, { tiles: TILES, size: 32, norm: VIT_AUGREG_NORM, scoreThreshold: 0, only: ['detect'], onWarning: (m) => warnings.push(m), onPhoto: (p) => done.push(p?.key ?? null) });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe("image 'p1.png' skipped: the file is missing");
    expect(warnings[1]).toMatch(/^image 'p2.png' skipped: /);
    expect(warnings[1]).not.toMatch(/could not be decoded/); // the reason, not a second sentence about the same file
    expect(done).toEqual(['1', null, null, '4']);
    expect(out.map((p) => p.key)).toEqual(['1', '4']);
    expect(out[1].prediction.transform).toMatchObject({ origW: 48, origH: 64 });
    expect(out[1].prediction.objects!.length).toBeGreaterThan(0);
    for (const o of out[1].prediction.objects!) {
      expect(o.rle).toBeUndefined(); // only: ['detect']
      expect(o.bbox[0] + o.bbox[2]).toBeLessThanOrEqual(48 + 1e-3);
    }
  }, 20_000);

  it('merges an object seen by two overlapping tiles into one, its mask in the photo frame; stitches the class map', () => {
    const tiles = [{ x: 0, y: 0, w: 6, h: 4 }, { x: 4, y: 0, w: 6, h: 4 }];
    const tf = (w: number) => ({ origW: w, origH: 4, scale: 1, padX: 0, padY: 0, flipped: false });
    // object at photo x 4..5, y 1..2: tile 0 local x 4..5, tile 1 local x 0..1
    const mask = (x0: number) => encodeMask(Array.from({ length: 24 }, (_, k) => (k % 6 >= x0 && k % 6 < x0 + 2 && k >= 6 && k < 18 ? 1 : 0)), 4, 6);
    const preds: TaskPrediction[] = [
      { transform: tf(6), objects: [{ classIndex: 1, score: 0.8, bbox: [4, 1, 2, 2], rle: mask(4) }], semantic: new Uint8Array(24).fill(1) },
      { transform: tf(6), objects: [{ classIndex: 1, score: 0.9, bbox: [0, 1, 2, 2], rle: mask(0) }, { classIndex: 0, score: 0.5, bbox: [0, 1, 2, 2] }], semantic: new Uint8Array(24).fill(2) },
    ];
    const out = mergeTilePredictions(tiles, preds, 10, 4);
    expect(out.objects!.map((o) => [o.classIndex, o.score, o.bbox])).toEqual([[1, 0.9, [4, 1, 2, 2]], [0, 0.5, [4, 1, 2, 2]]]);
    const m = decodeMask(out.objects![0].rle!);
    expect([...m.subarray(10, 20)]).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
    expect(out.objects![1].rle).toBeUndefined();
    // seam mid-overlap (photo x 4, 5): x 4 from tile 0, x 5 from tile 1
    expect([...out.semantic!.subarray(0, 10)]).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    // class-agnostic: the class-0 box at the same place goes
    expect(mergeTilePredictions(tiles, preds, 10, 4, { classAgnostic: true }).objects!.map((o) => o.classIndex)).toEqual([1]);
  });

  it('evaluates whole photos: an oracle detector scores AP50 1 on the merged tiles against the photo ground truth', async () => {
    // square 1 lies whole in the overlap of four tiles; square 2 is cut by tile 1's edge (60 % inside) and whole in tile 2
    const squares: [number, number, number][] = [[36, 20, 10], [66, 4, 10]];
    const f = join(dir, 'clean.png');
    await writePhoto(f, squares, false);
    const ds = photoDataset([f]);
    ds.annotations = squares.map(([x, y, s]) => ({ imageKey: '1', className: 'a', geometry: { kind: 'box' as const, x, y, w: s, h: s } }));
    const oracle = oracleModel();
    const data = createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: 32, norm: VIT_AUGREG_NORM, seed: 0, split: 'val' });
    const out = await evaluateModel(oracle, ds, data, CLASSES, { tiled: { tiles: TILES, norm: VIT_AUGREG_NORM } });
    expect(out.metrics.images).toBe(1);
    const objs = out.predictions[0].prediction.objects!;
    expect(objs).toHaveLength(2); // 4 + 2 sightings, merged
    for (const [i, [x, y, s]] of squares.entries()) {
      const o = objs.find((o) => Math.abs(o.bbox[0] - x) < 2)!;
      expect(o, `square ${i}`).toBeDefined();
      o.bbox.forEach((v, k) => expect(Math.abs(v - [x, y, s, s][k])).toBeLessThan(2));
    }
    expect(out.metrics.bbox!.AP50).toBe(1);
    // the same from the spec alone (what a training run calls at its end)
    const bySpec = await evaluateOnPhotos(oracle, ds, { classes: CLASSES, inputSize: 32, norm: VIT_AUGREG_NORM, tiles: TILES });
    expect(bySpec.metrics).toEqual(out.metrics);
    // without tiles the same pipeline gives the letterboxed whole photo, where the oracle also finds both
    const whole = await evaluateModel(oracle, ds, data, CLASSES, {});
    expect(whole.predictions[0].prediction.objects).toHaveLength(2);
    expect(out.predictions[0].prediction.transform.origW).toBe(W);
  }, 20_000);
});

/** A "detector" that boxes each connected bright region of its input (class 0, score by area), in original pixels. */
function oracleModel(): TaskModel {
  const predict = async (inputs: readonly PredictInput[]): Promise<TaskPrediction[]> =>
    inputs.map((inp) => {
      const { width: w, height: h, transform: t } = inp;
      const on = (x: number, y: number) => inp.image[3 * (y * w + x)] > 0;
      const seen = new Uint8Array(w * h);
      const objects: TaskPrediction['objects'] = [];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        if (seen[y * w + x] || !on(x, y)) continue;
        let [x0, y0, x1, y1, n] = [x, y, x, y, 0];
        const stack = [[x, y]];
        seen[y * w + x] = 1;
        while (stack.length) {
          const [cx, cy] = stack.pop()!;
          n++;
          [x0, y0, x1, y1] = [Math.min(x0, cx), Math.min(y0, cy), Math.max(x1, cx), Math.max(y1, cy)];
          for (const [nx, ny] of [[cx + 1, cy], [cx - 1, cy], [cx, cy + 1], [cx, cy - 1]]) {
            if (nx < 0 || ny < 0 || nx >= w || ny >= h || seen[ny * w + nx] || !on(nx, ny)) continue;
            seen[ny * w + nx] = 1;
            stack.push([nx, ny]);
          }
        }
        const bx = (x0 - t.padX) / t.scale;
        const by = (y0 - t.padY) / t.scale;
        objects.push({ classIndex: 0, score: Math.min(1, n / 100), bbox: [bx, by, (x1 + 1 - t.padX) / t.scale - bx, (y1 + 1 - t.padY) / t.scale - by] });
      }
      return { transform: t, objects };
    });
  return { tasks: new Set(['detect']), predict } as unknown as TaskModel;
}
