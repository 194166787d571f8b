import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importYolo, labelPathFor } from '../../../src-main/core/datasets/yolo-import';
import { exportYolo } from '../../../src-main/core/datasets/yolo-export';
import type { Dataset } from '../../../src-main/core/datasets/types';
import { encodeMask } from '../../../src-main/core/geometry/rle';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function layout(yaml: string) {
  await writeText(path.join(dir, 'data.yaml'), yaml);
  await writeImage(path.join(dir, 'images/train/a.jpg'), 20, 10);
  await writeImage(path.join(dir, 'images/train/sub/b.jpg'), 20, 10);
  await writeImage(path.join(dir, 'images/val/ünï c.png'), 40, 20);
  await writeText(path.join(dir, 'labels/train/a.txt'), '0 0.5 0.5 0.5 0.4\n\n1 0.1 0.2 0.9 0.2 0.5 0.8\n');
  await writeText(path.join(dir, 'labels/val/ünï c.txt'), '1 0.25 0.25 0.5 0.5\r\n');
}

describe('YOLO import', () => {
  it('reads names as a map, boxes and polygons in pixels, splits, unicode names', async () => {
    await layout('path: .\ntrain: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog house\n');
    const ds = await importYolo(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.classes).toEqual([{ name: 'cat', sourceId: 0 }, { name: 'dog house', sourceId: 1 }]);
    expect(ds.images.map((i) => [i.key, i.split, i.width, i.height])).toEqual([
      ['images/train/a.jpg', 'train', 20, 10],
      ['images/train/sub/b.jpg', 'train', 0, 0], // no label file: size is left to the store
      ['images/val/ünï c.png', 'val', 40, 20],
    ]);
    const [box, poly, box2] = ds.annotations;
    expect(box.className).toBe('cat');
    expect(box.geometry).toEqual({ kind: 'box', x: 5, y: 3, w: 10, h: 4 });
    expect(poly.geometry.kind).toBe('polygon');
    if (poly.geometry.kind === 'polygon') poly.geometry.rings[0].forEach((v, i) => expect(v).toBeCloseTo([2, 2, 18, 2, 10, 8][i], 9));
    expect(box2).toMatchObject({ imageKey: 'images/val/ünï c.png', className: 'dog house', geometry: { kind: 'box', x: 0, y: 0, w: 20, h: 10 } });
  });

  it('reads names as a list and the data.yaml path directly', async () => {
    await layout('train: images/train\nval: images/val\nnc: 2\nnames: [cat, dog]\n');
    const ds = await importYolo(path.join(dir, 'data.yaml'));
    expect(ds.issues).toEqual([]);
    expect(ds.classes.map((c) => c.name)).toEqual(['cat', 'dog']);
    expect(ds.annotations).toHaveLength(3);
  });

  it('reads list files and refuses entries that leave the root', async () => {
    await layout('train: train.txt\nval: lists/val.txt\nnames: [cat, dog]\n');
    await writeText(path.join(dir, 'train.txt'), `./images/train/a.jpg\n../../etc/passwd.jpg\n${path.join(dir, 'images/train/sub/b.jpg')}\n/etc/hostname.jpg\n`);
    await writeText(path.join(dir, 'lists/val.txt'), 'images/val/ünï c.png\n');
    const ds = await importYolo(dir);
    expect(ds.images.map((i) => i.key)).toEqual(['images/train/a.jpg', 'images/train/sub/b.jpg', 'images/val/ünï c.png']);
    expect(ds.issues).toEqual([
      { level: 'error', file: 'train.txt', record: 'line 2', message: "path '../../etc/passwd.jpg' leaves the dataset root (path traversal)" },
      expect.objectContaining({ level: 'error', file: 'train.txt', record: 'line 4', message: expect.stringMatching(/absolute path '\/etc\/hostname.jpg' is outside the dataset root/) }),
    ]);
  });

  it('a split entry outside the root is an error', async () => {
    await layout('train: ../../elsewhere\nval: images/val\nnames: [cat, dog]\n');
    const ds = await importYolo(dir);
    expect(ds.issues[0]).toMatchObject({ level: 'error', file: 'data.yaml', record: 'train', message: expect.stringMatching(/path traversal/) });
  });

  it.each([
    ['7 0.5 0.5 0.1 0.1', /class index 7 is not declared in data.yaml \(it names 2 classes: 0–1\)/],
    ['0 0.1 0.1 0.2 0.2 0.3 0.3 0.4', /7 numbers after the class index, which is neither a box nor a polygon/],
    ['0 0.5 0.5 0.1', /3 numbers after the class index, which is neither a box nor a polygon: a box is 4 numbers/],
    ['0 0.1 0.1', /2 numbers after the class index/],
    ['0 0.5 0.5 -0.1 0.2', /negative size/],
    ['0 0.5 abc 0.1 0.2', /value 3 \('abc'\) is not a number/],
    ['x 0.5 0.5 0.1 0.2', /class index 'x'/],
  ])('label line %j is an error naming file and line', async (line, re) => {
    await layout('train: images/train\nval: images/val\nnames: [cat, dog]\n');
    await writeText(path.join(dir, 'labels/train/a.txt'), `0 0.5 0.5 0.1 0.1\n${line}\n`);
    const ds = await importYolo(dir);
    expect(ds.issues).toHaveLength(1);
    expect(ds.issues[0]).toMatchObject({ level: 'error', file: 'labels/train/a.txt', record: 'line 2', message: expect.stringMatching(re) });
  });

  it('out-of-range coordinates are left to the store (which clips them alike for every format); bad YAML names the line', async () => {
    await layout('train: images/train\nval: images/val\nnames: [cat, dog]\n');
    await writeText(path.join(dir, 'labels/train/a.txt'), '0 0.5 0.5 1.5 0.1\n');
    const ds = await importYolo(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.annotations[0].geometry).toEqual({ kind: 'box', x: -5, y: 4.5, w: 30, h: 1 });
    await writeText(path.join(dir, 'data.yaml'), 'train: [images/train\nnames: {0: a\n');
    await expect(importYolo(dir)).rejects.toThrow(/data.yaml: invalid YAML at line \d+/);
    await writeText(path.join(dir, 'data.yaml'), 'train: 5\n');
    await expect(importYolo(dir)).rejects.toThrow(/data.yaml: field 'train'/);
  });

  it('uses the EXIF-oriented size', async () => {
    await layout('train: images/train\nval: images/val\nnames: [cat, dog]\n');
    await writeImage(path.join(dir, 'images/train/a.jpg'), 20, 10, { orientation: 6 });
    const ds = await importYolo(dir);
    expect(ds.images[0]).toMatchObject({ width: 10, height: 20 });
  });

  it('maps image paths to label paths like Ultralytics', () => {
    expect(labelPathFor('/d/images/x/images/train/a.b.jpg')).toBe('/d/images/x/labels/train/a.b.txt');
  });
});

describe('YOLO export', () => {
  async function neutral(): Promise<Dataset> {
    await writeImage(path.join(dir, 'src/a.jpg'), 20, 10);
    await writeImage(path.join(dir, 'src/b c.png'), 8, 8);
    const ring = (x0: number, y0: number, x1: number, y1: number) => [x0, y0, x1, y0, x1, y1, x0, y1];
    const m = new Uint8Array(64);
    for (let y = 1; y < 7; y++) for (let x = 1; x < 7; x++) m[y * 8 + x] = x === 3 && y === 3 ? 0 : 1;
    return {
      images: [
        { key: '1', fileName: 'a.jpg', absPath: path.join(dir, 'src/a.jpg'), width: 20, height: 10, split: 'train' },
        { key: '2', fileName: 'b c.png', absPath: path.join(dir, 'src/b c.png'), width: 8, height: 8, split: 'val' },
      ],
      classes: [{ name: 'car', sourceId: 3 }, { name: 'zebra', sourceId: 90 }],
      annotations: [
        { imageKey: '1', className: 'zebra', geometry: { kind: 'box', x: 5, y: 3, w: 10, h: 4 } },
        { imageKey: '1', className: 'car', geometry: { kind: 'polygon', rings: [ring(0, 0, 4, 4), ring(10, 5, 14, 9)] } },
        { imageKey: '2', className: 'car', geometry: { kind: 'mask', rle: encodeMask(m, 8, 8) }, iscrowd: true },
      ],
      issues: [],
    };
  }

  it('writes the Ultralytics layout and reports conversions', async () => {
    const ds = await neutral();
    const out = path.join(dir, 'out');
    const report = await exportYolo(ds, out);
    expect(report.files).toEqual(['data.yaml', 'images/train/a.jpg', 'labels/train/a.txt', 'images/val/b c.png', 'labels/val/b c.txt']);
    expect(report.converted).toEqual([
      'class ids renumbered 0..K-1 in class order (YOLO needs contiguous indices)',
      '1 RLE mask converted to polygons (YOLO has no RLE)',
      '1 multi-part outline joined into one polygon by zero-width bridges (YOLO has one polygon per line)',
      expect.stringMatching(/mixed labels: 1 box and 2 polygons/),
    ]);
    expect(report.dropped).toEqual(['1 hole in masks (a YOLO polygon cannot have holes)', 'crowd flag of 1 annotation (written as ordinary objects)']);
    const labels = await readFile(path.join(out, 'labels/train/a.txt'), 'utf8');
    expect(labels.split('\n')[0]).toBe('1 0.500000 0.500000 0.500000 0.400000');
    const yaml = await readFile(path.join(out, 'data.yaml'), 'utf8');
    expect(yaml).toMatch(/names:\n {2}0: "car"\n {2}1: "zebra"/);

    // and back
    const back = await importYolo(out);
    expect(back.issues).toEqual([]);
    expect(back.classes.map((c) => c.name)).toEqual(['car', 'zebra']);
    expect(back.annotations[0].geometry).toEqual({ kind: 'box', x: 5, y: 3, w: 10, h: 4 });
    const mask = back.annotations.find((a) => a.imageKey === 'images/val/b c.png')!;
    expect(mask.geometry).toEqual({ kind: 'polygon', rings: [[1, 1, 7, 1, 7, 7, 1, 7]] });
  });

  it('quotes class names that YAML 1.1 would read as booleans or numbers', async () => {
    const ds = await neutral();
    ds.classes = [{ name: 'yes' }, { name: 'dog: "house"' }];
    ds.annotations = [{ imageKey: '1', className: 'yes', geometry: { kind: 'box', x: 1, y: 1, w: 2, h: 2 } }];
    await exportYolo(ds, path.join(dir, 'q'), { images: 'none' });
    const yaml = await readFile(path.join(dir, 'q', 'data.yaml'), 'utf8');
    expect(yaml).toContain('0: "yes"');
    expect(yaml).toContain('val: "images/val"');
    const back = await importYolo(path.join(dir, 'q'));
    expect(back.classes.map((c) => c.name)).toEqual(['yes', 'dog: "house"']);
  });

  it('exports only the chosen splits', async () => {
    const ds = await neutral();
    const report = await exportYolo(ds, path.join(dir, 'o'), { splits: ['val'], images: 'none' });
    expect(report.files).toEqual(['data.yaml', 'labels/val/b c.txt']);
  });
});

describe('YOLO orphans', () => {
  it('warns about label files without an image', async () => {
    await layout('train: images/train\nval: images/val\nnames: [cat, dog]\n');
    await writeText(path.join(dir, 'labels/train/gone.txt'), '0 0.5 0.5 0.1 0.1\n');
    const ds = await importYolo(dir);
    expect(ds.issues).toEqual([{ level: 'warning', file: 'labels/train/gone.txt', record: undefined, message: 'label file without a matching image; not imported' }]);
  });
});
