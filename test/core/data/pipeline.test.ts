import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateShapes, type ShapesDataset } from '../../../src-main/core/demo/index';
import { decodeMask } from '../../../src-main/core/geometry/rle';
import { boxToInput, boxToOriginal, maskToOriginal, pointToOriginal } from '../../../src-main/core/data/letterbox';
import { createDataPipeline, prepareInput, type DataPipelineOptions } from '../../../src-main/core/data/pipeline';
import { Rng } from '../../../src-main/core/data/rng';
import { VIT_AUGREG_NORM, type Sample } from '../../../src-main/core/data/types';

const CLASSES = { names: ['circle', 'triangle', 'square'] };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hst-data-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let square: ShapesDataset; // 160×160, RLE masks
let squarePoly: ShapesDataset; // same pictures, polygons
let squareBox: ShapesDataset; // same pictures, boxes only
let wide: ShapesDataset; // 200×120, RLE masks

beforeAll(async () => {
  const base = { count: 6, seed: 77, objectsPerImage: [2, 4] as [number, number] };
  [square, squarePoly, squareBox, wide] = await Promise.all([
    generateShapes({ ...base, size: 160, outDir: tmp() }),
    generateShapes({ ...base, size: 160, outDir: tmp(), geometry: 'polygon' }),
    generateShapes({ ...base, size: 160, outDir: tmp(), geometry: 'box' }),
    generateShapes({ ...base, size: [200, 120], outDir: tmp() }),
  ]);
});

const pipe = (dataset: ShapesDataset, extra: Partial<DataPipelineOptions> = {}) =>
  createDataPipeline({ dataset, classes: CLASSES, size: 160, norm: VIT_AUGREG_NORM, seed: 11, ...extra });

const instancesOf = (ds: ShapesDataset, key: string) => ds.instances.filter((i) => i.imageKey === key);

async function rawRgb(file: string): Promise<Uint8Array> {
  return new Uint8Array(await sharp(file).removeAlpha().raw().toBuffer());
}

function bytes(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function sameSample(a: Sample, b: Sample): boolean {
  return (
    bytes(a.image).equals(bytes(b.image)) &&
    bytes(a.targets.boxes).equals(bytes(b.targets.boxes)) &&
    bytes(a.targets.labels).equals(bytes(b.targets.labels)) &&
    a.targets.masks.length === b.targets.masks.length &&
    a.targets.masks.every((m, i) => bytes(m!).equals(bytes(b.targets.masks[i]!))) &&
    JSON.stringify(a.transform) === JSON.stringify(b.transform)
  );
}

function maskBox(m: Uint8Array, W: number): number[] {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let i = 0; i < m.length; i++) {
    if (!m[i]) continue;
    const x = i % W, y = (i - x) / W;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  return [x0, y0, x1 + 1, y1 + 1];
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let i = 0, u = 0;
  for (let p = 0; p < a.length; p++) {
    if (a[p] && b[p]) i++;
    if (a[p] || b[p]) u++;
  }
  return u ? i / u : 1;
}

describe('data pipeline on the shapes demo', () => {
  it('letterboxes a non-square image: geometry, padding, boxes and masks map back to the original', async () => {
    const p = pipe(wide);
    expect(p.length).toBe(6);
    for (let i = 0; i < p.length; i++) {
      const s = await p.evalSample(i);
      expect([s.height, s.width, s.image.length]).toEqual([160, 160, 160 * 160 * 3]);
      expect(s.transform).toMatchObject({ origW: 200, origH: 120, padX: 0, padY: 32, flipped: false });
      expect(s.transform.scale).toBeCloseTo(0.8, 12);
      // padding rows are exactly the normalised mean colour
      expect(s.image.subarray(0, 160 * 32 * 3).every((v) => v === 0)).toBe(true);
      expect(s.image.subarray(160 * 128 * 3).every((v) => v === 0)).toBe(true);
      const insts = instancesOf(wide, s.key);
      expect(s.targets.labels.length).toBe(insts.length);
      insts.forEach((inst, j) => {
        const [x, y, w, h] = inst.bbox;
        const want = boxToInput([x, y, x + w, y + h], s.transform);
        const got = Array.from(s.targets.boxes.subarray(4 * j, 4 * j + 4));
        for (let k = 0; k < 4; k++) expect(Math.abs(got[k] - want[k])).toBeLessThanOrEqual(1);
        const back = boxToOriginal(got, s.transform);
        for (let k = 0; k < 4; k++) expect(Math.abs(back[k] - [x, y, x + w, y + h][k])).toBeLessThanOrEqual(1 / 0.8);
        expect(s.targets.labels[j]).toBe(CLASSES.names.indexOf(inst.className));
        const m = s.targets.masks[j]!;
        expect(maskBox(m, 160)).toEqual(got);
        expect(iou(maskToOriginal(m, 160, 160, s.transform), decodeMask(inst.rle))).toBeGreaterThan(0.75);
      });
    }
  });

  it('an exact horizontal flip mirrors image, masks and boxes pixel for pixel', async () => {
    const p = pipe(square, { augment: { hflip: 1, scaleJitter: [1, 1], colorJitter: 0 } });
    const samples = await p.batch([0, 1, 2], new Rng(4));
    expect(samples.length).toBe(3);
    for (const s of samples) {
      expect(s.transform).toMatchObject({ flipped: true, scale: 1, padX: 0, padY: 0 });
      const orig = await rawRgb(square.images.find((im) => im.key === s.key)!.absPath!);
      let worst = 0;
      for (let y = 0; y < 160; y++) {
        for (let x = 0; x < 160; x++) {
          for (let c = 0; c < 3; c++) {
            const want = (orig[(y * 160 + 159 - x) * 3 + c] / 255 - 0.5) / 0.5;
            worst = Math.max(worst, Math.abs(s.image[(y * 160 + x) * 3 + c] - want));
          }
        }
      }
      expect(worst).toBeLessThan(1e-5);
      instancesOf(square, s.key).forEach((inst, j) => {
        const om = decodeMask(inst.rle);
        const m = s.targets.masks[j]!;
        let diff = 0;
        for (let y = 0; y < 160; y++) for (let x = 0; x < 160; x++) if (m[y * 160 + x] !== om[y * 160 + 159 - x]) diff++;
        expect(diff).toBe(0);
        const [bx, by, bw, bh] = inst.bbox;
        expect(Array.from(s.targets.boxes.subarray(4 * j, 4 * j + 4))).toEqual([160 - bx - bw, by, 160 - bx, by + bh]);
      });
    }
  });

  it('zoom + flip + placement: pixels follow the transform (vs an independent bilinear), masks agree with boxes', async () => {
    const p = pipe(square, { augment: { hflip: 1, scaleJitter: [1.7, 1.7], colorJitter: 0 } });
    const rng = new Rng(21);
    const s = await p.sample(3, rng);
    const t = s.transform;
    expect(t.scale).toBeCloseTo(1.7, 12);
    const orig = await rawRgb(square.images.find((im) => im.key === s.key)!.absPath!);
    const at = (x: number, y: number, c: number) => orig[(Math.min(159, Math.max(0, y)) * 160 + Math.min(159, Math.max(0, x))) * 3 + c];
    let worst = 0;
    const r = new Rng(1);
    for (let n = 0; n < 400; n++) {
      const x = r.int(0, 159);
      const y = r.int(0, 159);
      const [ox, oy] = pointToOriginal(x + 0.5, y + 0.5, t);
      if (!(ox >= 0 && ox <= 160 && oy >= 0 && oy < 160)) continue;
      const cx = ox - 0.5, cy = oy - 0.5;
      const x0 = Math.floor(cx), y0 = Math.floor(cy), wx = cx - x0, wy = cy - y0;
      for (let c = 0; c < 3; c++) {
        const v = (1 - wy) * ((1 - wx) * at(x0, y0, c) + wx * at(x0 + 1, y0, c)) + wy * ((1 - wx) * at(x0, y0 + 1, c) + wx * at(x0 + 1, y0 + 1, c));
        worst = Math.max(worst, Math.abs(s.image[(y * 160 + x) * 3 + c] - (v / 255 - 0.5) / 0.5));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    const n = s.targets.labels.length;
    expect(n).toBeGreaterThan(0);
    for (let j = 0; j < n; j++) {
      const b = Array.from(s.targets.boxes.subarray(4 * j, 4 * j + 4));
      expect(maskBox(s.targets.masks[j]!, 160)).toEqual(b);
      expect(b[0] >= 0 && b[1] >= 0 && b[2] <= 160 && b[3] <= 160 && b[2] > b[0] && b[3] > b[1]).toBe(true);
    }
    // each kept instance's box is the clipped transform of its original box, within a pixel
    const insts = instancesOf(square, s.key);
    const expected = insts
      .map((inst) => boxToInput([inst.bbox[0], inst.bbox[1], inst.bbox[0] + inst.bbox[2], inst.bbox[1] + inst.bbox[3]], t))
      .map((b) => [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(160, b[2]), Math.min(160, b[3])])
      .filter((b) => b[2] - b[0] >= 1 && b[3] - b[1] >= 1);
    expect(n).toBeLessThanOrEqual(expected.length);
    for (let j = 0; j < n; j++) {
      const b = s.targets.boxes.subarray(4 * j, 4 * j + 4);
      const match = expected.some((e) => e.every((v, k) => Math.abs(v - b[k]) <= 1.75));
      expect(match).toBe(true);
    }
  });

  it('polygon and RLE annotations of the same objects give the same masks and boxes', async () => {
    const aug = { hflip: 0.5, scaleJitter: [0.6, 1.4] as [number, number], colorJitter: 0.2 };
    const a = pipe(square, { augment: aug });
    const b = pipe(squarePoly, { augment: aug });
    const sa = [...(await a.batch([0, 1, 2, 3, 4, 5], new Rng(8))), await a.evalSample(2)];
    const sb = [...(await b.batch([0, 1, 2, 3, 4, 5], new Rng(8))), await b.evalSample(2)];
    let compared = 0;
    sa.forEach((x, i) => {
      const y = sb[i];
      expect(bytes(x.image).equals(bytes(y.image))).toBe(true);
      expect(Array.from(x.targets.labels)).toEqual(Array.from(y.targets.labels));
      const insts = instancesOf(square, x.key);
      x.targets.masks.forEach((m, j) => {
        // an outline cannot hold a hole cut by an occluder: there the polygon mask covers the RLE mask
        if (insts.length === x.targets.masks.length && insts[j].holesDropped > 0) {
          expect(m!.every((v, p) => !v || y.targets.masks[j]![p])).toBe(true);
        } else {
          expect(bytes(m!).equals(bytes(y.targets.masks[j]!))).toBe(true);
          compared++;
        }
      });
    });
    expect(compared).toBeGreaterThan(10);
  });

  it('builds semantic maps: class+1 on masks, 0 elsewhere; 255 over box-only objects; none for box datasets by default', async () => {
    const s = await pipe(square).evalSample(0);
    const sem = s.targets.semantic!;
    expect(sem.length).toBe(160 * 160);
    const want = new Uint8Array(160 * 160);
    s.targets.masks.forEach((m, j) => m!.forEach((v, p) => v && (want[p] = s.targets.labels[j] + 1)));
    expect(bytes(sem).equals(bytes(want))).toBe(true);
    expect(new Set(sem).size).toBeGreaterThan(1);

    const boxOnly = await pipe(squareBox).evalSample(0);
    expect(boxOnly.targets.semantic).toBeNull();
    expect(boxOnly.targets.masks.every((m) => m === null)).toBe(true);
    const forced = await pipe(squareBox, { semantic: true }).evalSample(0);
    const fs = forced.targets.semantic!;
    const b = forced.targets.boxes;
    const inBox = (x: number, y: number) => {
      for (let j = 0; j < b.length / 4; j++) if (x + 0.5 > b[4 * j] && x + 0.5 < b[4 * j + 2] && y + 0.5 > b[4 * j + 1] && y + 0.5 < b[4 * j + 3]) return true;
      return false;
    };
    let wrong = 0;
    for (let y = 0; y < 160; y++) for (let x = 0; x < 160; x++) if (fs[y * 160 + x] !== (inBox(x, y) ? 255 : 0)) wrong++;
    expect(wrong).toBe(0);
  });

  it('is deterministic by seed and RNG; a restored RNG state gives the same next batch', async () => {
    const aug = { hflip: 0.5, scaleJitter: [0.75, 1.25] as [number, number], colorJitter: 0.3 };
    const p1 = pipe(square, { augment: aug });
    const p2 = pipe(square, { augment: aug });
    const r1 = new Rng(5);
    const a1 = await p1.batch([0, 1, 2, 3], r1);
    const saved = r1.getState();
    const a2 = await p1.batch([4, 5, 0, 1], r1);
    const b1 = await p2.batch([0, 1, 2, 3], new Rng(5));
    a1.forEach((s, i) => expect(sameSample(s, b1[i])).toBe(true));
    const resumed = await pipe(square, { augment: aug }).batch([4, 5, 0, 1], Rng.fromState(saved));
    a2.forEach((s, i) => expect(sameSample(s, resumed[i])).toBe(true));
    const other = await p2.batch([0, 1, 2, 3], new Rng(6));
    expect(other.some((s, i) => !sameSample(s, a1[i]))).toBe(true);
    // without an rng, an index always gets the same augmentation
    expect(sameSample(await p1.sample(2), await p2.sample(2))).toBe(true);
    // every augmented sample is finite and well-formed
    for (const s of [...a1, ...a2, ...other]) {
      expect(s.image.every(Number.isFinite)).toBe(true);
      expect(s.targets.boxes.every(Number.isFinite)).toBe(true);
      expect(s.targets.semantic!.every((v) => v === 0 || v === 255 || (v >= 1 && v <= 3))).toBe(true);
    }
  });

  it('epochOrder is a seeded permutation that changes per epoch', () => {
    const p = pipe(square);
    const e0 = p.epochOrder(0);
    expect([...e0].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pipe(square).epochOrder(0)).toEqual(e0);
    const all = [0, 1, 2, 3, 4].map((e) => p.epochOrder(e).join());
    expect(new Set(all).size).toBeGreaterThan(1);
    expect(() => p.epochOrder(-1)).toThrow(/non-negative integer/);
  });

  it('filters by split and prepares single inputs for prediction', async () => {
    const train = pipe(square, { split: 'train' });
    const val = pipe(square, { split: 'val' });
    expect(train.length + val.length).toBe(6);
    expect(val.length).toBeGreaterThan(0);
    expect(square.images[val.image(0).datasetIndex].split).toBe('val');
    const s = await pipe(wide).evalSample(1);
    const input = await prepareInput(wide.images[1].absPath!, 160, VIT_AUGREG_NORM);
    expect(input.transform).toEqual(s.transform);
    expect(bytes(input.image).equals(bytes(s.image))).toBe(true);
    expect(() => train.image(99)).toThrow(/out of range/);
  });
});
