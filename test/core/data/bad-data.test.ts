import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, DatasetAnnotation } from '../../../src-main/core/datasets/types';
import { encodeMask } from '../../../src-main/core/geometry/rle';
import { createDataPipeline, type DataPipelineOptions } from '../../../src-main/core/data/pipeline';
import { Rng } from '../../../src-main/core/data/rng';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';

let dir: string;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 64;
const H = 48;

async function png(name: string, rgb: [number, number, number]): Promise<string> {
  const p = join(dir, name);
  await sharp({ create: { width: W, height: H, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(p);
  return p;
}

let dataset: Dataset;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hst-bad-'));
  const good = await png('good.png', [200, 50, 50]);
  const one = await png('one.png', [50, 200, 50]);
  const corrupt = join(dir, 'corrupt.jpg');
  writeFileSync(corrupt, 'this is not a JPEG');
  const square = new Uint8Array(W * H);
  for (let y = 10; y < 30; y++) for (let x = 30; x < 50; x++) square[y * W + x] = 1;
  const a = (imageKey: string, className: string, geometry: DatasetAnnotation['geometry'], sourceId?: number, extra: Partial<DatasetAnnotation> = {}): DatasetAnnotation => ({
    imageKey,
    className,
    geometry,
    sourceId,
    ...extra,
  });
  dataset = {
    images: [
      { key: 'g', fileName: 'good.png', absPath: good, width: W, height: H },
      { key: 'c', fileName: 'corrupt.jpg', absPath: corrupt, width: W, height: H },
      { key: 'm', fileName: 'missing.png', absPath: null, width: W, height: H },
      { key: 'o', fileName: 'one.png', absPath: one, width: W, height: H },
    ],
    classes: [{ name: 'cat' }, { name: 'dog' }],
    annotations: [
      a('g', 'cat', { kind: 'polygon', rings: [[1, 1, 5, 5]] }, 17),
      a('g', 'cat', { kind: 'box', x: 5, y: 5, w: -5, h: 10 }, 18),
      a('g', 'cat', { kind: 'box', x: 5, y: 5, w: 0, h: 10 }, 19),
      a('g', 'dog', { kind: 'mask', rle: encodeMask(new Uint8Array(100).fill(1), 10, 10) }, 20),
      a('g', 'bird', { kind: 'box', x: 1, y: 1, w: 5, h: 5 }, 21),
      a('g', 'cat', { kind: 'box', x: 100, y: 1, w: 5, h: 5 }, 22),
      a('g', 'dog', { kind: 'polygon', rings: [[2, 30, 12, 30, 12, 40, 2, 40], [0, 0, 3, 3]] }, 23),
      a('g', 'cat', { kind: 'box', x: 4, y: 4, w: 10, h: 8 }, 24),
      a('g', 'dog', { kind: 'mask', rle: encodeMask(square, H, W) }, 25),
      a('g', 'dog', { kind: 'mask', rle: { size: [H, W], counts: '!!' } }, 26),
      a('g', 'cat', { kind: 'box', x: 20, y: 36, w: 8, h: 8 }, 27, { iscrowd: true }),
      a('g', 'cat', { kind: 'box', x: Number.NaN, y: 1, w: 5, h: 5 }),
      a('c', 'cat', { kind: 'box', x: 1, y: 1, w: 5, h: 5 }, 40),
      a('o', 'dog', { kind: 'box', x: 0, y: 0, w: W, h: H }, 50),
      a('o', 'dog', { kind: 'box', x: 10, y: 10, w: 10, h: 10 }, 51),
      a('nowhere', 'dog', { kind: 'box', x: 10, y: 10, w: 10, h: 10 }, 60),
    ],
    issues: [],
  };
});

const make = (extra: Partial<DataPipelineOptions> = {}) => {
  const warnings: string[] = [];
  const p = createDataPipeline({
    dataset,
    classes: { names: ['cat', 'dog'] },
    size: 64,
    norm: VIT_AUGREG_NORM,
    seed: 1,
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  return { p, warnings };
};

describe('bad data is skipped with warnings that name image and annotation', () => {
  it('skips each bad annotation with a named warning and keeps the good ones', async () => {
    const { p, warnings } = make({ augment: { hflip: 0.5, scaleJitter: [0.8, 1.2], colorJitter: 0.2 } });
    const s = await p.evalSample(0);
    const expected = [
      "image 'good.png' annotation 17: polygon with 2 points skipped",
      "image 'good.png' annotation 18: box with zero or negative size -5×10 skipped",
      "image 'good.png' annotation 19: box with zero or negative size 0×10 skipped",
      "image 'good.png' annotation 20: mask of size 10×10 differs from the 64×48 image, skipped",
      "image 'good.png' annotation 21: class 'bird' is not among the training classes, skipped",
      "image 'good.png' annotation 22: box (100, 1, 5×5) lies outside the 64×48 image, skipped",
      "image 'good.png' annotation 23: polygon ring 1 with 2 points: that ring was dropped",
      "image 'good.png' annotation 11: box with a non-finite coordinate (NaN, 1, 5, 5) skipped",
    ];
    for (const e of expected) expect(s.warnings).toContain(e);
    expect(s.warnings.some((w) => w.startsWith("image 'good.png' annotation 26: mask RLE is invalid"))).toBe(true);
    expect(s.warnings.length).toBe(expected.length + 1);
    // kept: 23 (dog polygon), 24 (cat box), 25 (dog mask); the crowd box 27 only marks an ignore region
    expect(Array.from(s.targets.labels)).toEqual([1, 0, 1]);
    expect(s.targets.masks.map((m) => m !== null)).toEqual([true, false, true]);
    const sem = s.targets.semantic!;
    const t = s.transform; // 64×48 in 64×64: scale 1, padY 8
    expect([t.scale, t.padX, t.padY]).toEqual([1, 0, 8]);
    expect(sem[(8 + 20) * 64 + 40]).toBe(2); // inside the dog mask
    expect(sem[(8 + 8) * 64 + 8]).toBe(255); // inside the cat box (box only: extent unknown)
    expect(sem[(8 + 40) * 64 + 24]).toBe(255); // the crowd box
    expect(sem[(8 + 2) * 64 + 60]).toBe(0);
    expect(s.image.every(Number.isFinite)).toBe(true);
    // warnings are reported once per image, however often it is sampled
    await p.sample(0, new Rng(3));
    await p.batch([0, 0], new Rng(4));
    expect(warnings.filter((w) => w.includes("'good.png'")).length).toBe(expected.length + 1);
    expect(warnings).toContain("1 annotation referring to images not in the dataset (first: image key 'nowhere') ignored");
  });

  it('leaves undecodable and missing images out of batches, names them, and never throws from batch()', async () => {
    const { p, warnings } = make({ augment: { hflip: 0.5, scaleJitter: [0.8, 1.2], colorJitter: 0.2 } });
    await expect(p.evalSample(1)).rejects.toThrow(/^image 'corrupt\.jpg' could not be decoded: /);
    const batch = await p.batch([0, 1, 2, 3], new Rng(2));
    expect(batch.map((s) => s.key)).toEqual(['g', 'o']);
    expect(p.failed().map((f) => [f.key, f.fileName])).toEqual([
      ['c', 'corrupt.jpg'],
      ['m', 'missing.png'],
    ]);
    expect(warnings).toContain("image 'missing.png' skipped: the file is missing");
    expect(warnings.filter((w) => w.startsWith("image 'corrupt.jpg' skipped: ")).length).toBe(1);
    await expect(p.sample(2)).rejects.toThrow("image 'missing.png' could not be decoded: the file is missing");
  });

  it('refuses images above the pixel bound before decoding', async () => {
    const { p } = make({ maxPixels: 1000 });
    await expect(p.evalSample(0)).rejects.toThrow("image 'good.png' could not be decoded: 64×48 is more than the 1,000 pixels allowed");
  });

  it('derives image-level classes only when asked', async () => {
    expect((await make().p.evalSample(3)).targets.imageClass).toBe(-1);
    const sole = await make({ imageClass: 'sole-class' }).p.evalSample(3);
    expect(sole.targets.imageClass).toBe(1);
    expect(sole.targets.labels.length).toBe(2);
    expect((await make({ imageClass: 'sole-class' }).p.evalSample(0)).targets.imageClass).toBe(-1); // cat and dog
    const whole = await make({ imageClass: 'whole-image-box' }).p.evalSample(3);
    expect(whole.targets.imageClass).toBe(1);
    expect(Array.from(whole.targets.boxes)).toEqual([10, 18, 20, 28]); // the whole-image box is not an instance
  });

  it('keeps decoded images in an LRU cache of the given size', async () => {
    const copy = join(dir, 'copy.png');
    copyFileSync(dataset.images[0].absPath!, copy);
    const ds: Dataset = { ...dataset, images: [{ ...dataset.images[0], absPath: copy }, dataset.images[3]] };
    const mk = (cacheSize: number) => createDataPipeline({ dataset: ds, classes: { names: ['cat', 'dog'] }, size: 64, norm: VIT_AUGREG_NORM, seed: 1, cacheSize });
    const big = mk(4);
    const small = mk(1);
    await big.evalSample(0);
    await small.evalSample(0);
    unlinkSync(copy);
    await small.evalSample(1); // evicts image 0
    await expect(big.evalSample(0)).resolves.toMatchObject({ key: 'g' });
    await expect(small.evalSample(0)).rejects.toThrow(/image 'good\.png' could not be decoded/);
  });

  it('keeps decoded images up to a byte budget, by default every image of a small project', async () => {
    const copy = join(dir, 'copy2.png');
    copyFileSync(dataset.images[0].absPath!, copy);
    const ds: Dataset = { ...dataset, images: [{ ...dataset.images[0], absPath: copy }, dataset.images[3]] };
    const mk = (cacheBytes?: number) => createDataPipeline({ dataset: ds, classes: { names: ['cat', 'dog'] }, size: 64, norm: VIT_AUGREG_NORM, seed: 1, cacheBytes });
    const roomy = mk();
    const tight = mk(1); // no two images fit: the one just decoded stays, the older goes
    for (const p of [roomy, tight]) {
      await p.evalSample(0);
      await p.evalSample(1);
    }
    unlinkSync(copy);
    await expect(roomy.evalSample(0)).resolves.toMatchObject({ key: 'g' });
    await expect(tight.evalSample(1)).resolves.toMatchObject({ key: dataset.images[3].key });
    await expect(tight.evalSample(0)).rejects.toThrow(/image 'good\.png' could not be decoded/);
  });

  it('rejects bad options with a sentence', () => {
    const base = { dataset, norm: VIT_AUGREG_NORM, seed: 1, size: 64 };
    expect(() => createDataPipeline({ ...base, classes: { names: [] } })).toThrow(/at least one class/);
    expect(() => createDataPipeline({ ...base, classes: { names: ['a', 'a'] } })).toThrow(/'a' is listed twice/);
    expect(() => createDataPipeline({ ...base, classes: { names: ['a'] }, augment: { hflip: 2, scaleJitter: [1, 1], colorJitter: 0 } })).toThrow(/hflip/);
    expect(() => createDataPipeline({ ...base, classes: { names: ['a'] }, augment: { hflip: 0, scaleJitter: [2, 1], colorJitter: 0 } })).toThrow(/scaleJitter/);
    expect(() => createDataPipeline({ ...base, classes: { names: ['a'] }, norm: { mean: [0, 0, 0], std: [1, 0, 1] } })).toThrow(/channel 1 needs a finite mean and a positive std/);
  });
});
