import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importVoc } from '../../../src-main/core/datasets/voc-import';
import { exportVoc } from '../../../src-main/core/datasets/voc-export';
import { encodePalettePng, vocColormap } from '../../../src-main/core/datasets/png-palette';
import { decodeMask, encodeMask } from '../../../src-main/core/geometry/rle';
import type { Dataset } from '../../../src-main/core/datasets/types';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const xml = (file: string, objects: string, size = '<size><width>8</width><height>6</height><depth>3</depth></size>') =>
  `<?xml version="1.0"?>\n<annotation><folder>VOC</folder><filename>${file}</filename>${size}${objects}</annotation>\n`;
const obj = (name: string, b: number[], extra = '') =>
  `<object><name>${name}</name>${extra}<bndbox><xmin>${b[0]}</xmin><ymin>${b[1]}</ymin><xmax>${b[2]}</xmax><ymax>${b[3]}</ymax></bndbox></object>`;

async function vocLayout() {
  await writeImage(path.join(dir, 'JPEGImages/2007_000001.jpg'), 8, 6);
  await writeImage(path.join(dir, 'JPEGImages/ünï two.jpg'), 8, 6);
  await writeText(path.join(dir, 'Annotations/2007_000001.xml'), xml('2007_000001.jpg', obj('dog', [1, 1, 4, 3]) + obj('person', [3, 2, 8, 6], '<difficult>1</difficult>')));
  await writeText(path.join(dir, 'Annotations/ünï two.xml'), xml('ünï two.jpg', obj('dog', [2, 2, 2, 2])));
  await writeText(path.join(dir, 'ImageSets/Main/train.txt'), '2007_000001\n');
  await writeText(path.join(dir, 'ImageSets/Main/val.txt'), 'ünï two\n');
  // instance PNG: object 1 = a 2x2 block, object 2 = one row; 255 (void) around object 1
  const idx = new Uint8Array(48);
  for (const [x, y] of [[0, 0], [1, 0], [0, 1], [1, 1]]) idx[y * 8 + x] = 1;
  for (let x = 3; x < 8; x++) idx[4 * 8 + x] = 2;
  idx[2 * 8 + 0] = 255;
  await mkdir(path.join(dir, 'SegmentationObject'), { recursive: true });
  await writeFile(path.join(dir, 'SegmentationObject/2007_000001.png'), encodePalettePng(idx, 8, 6, vocColormap()));
  return idx;
}

describe('VOC import', () => {
  it('reads boxes (1-based inclusive), splits, unicode names and SegmentationObject instances', async () => {
    const idx = await vocLayout();
    const ds = await importVoc(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.annotations.map((a) => a.flags)).toEqual([undefined, { difficult: true }, undefined]);
    expect(ds.images.map((i) => [i.key, i.fileName, i.split, i.width, i.height])).toEqual([
      ['2007_000001', 'JPEGImages/2007_000001.jpg', 'train', 8, 6],
      ['ünï two', 'JPEGImages/ünï two.jpg', 'val', 8, 6],
    ]);
    expect(ds.classes.map((c) => c.name)).toEqual(['dog', 'person']);
    const [m1, m2, box] = ds.annotations;
    expect(m1.geometry).toEqual({ kind: 'mask', rle: encodeMask(idx.map((v) => (v === 1 ? 1 : 0)), 6, 8) });
    expect(m2.geometry).toEqual({ kind: 'mask', rle: encodeMask(idx.map((v) => (v === 2 ? 1 : 0)), 6, 8) });
    expect(box.geometry).toEqual({ kind: 'box', x: 1, y: 1, w: 1, h: 1 });
  });

  it.each([
    ['negative box', obj('dog', [5, 1, 4, 3]), /object\[0\]/, /negative size/],
    ['non-numeric coordinate', obj('dog', [1, 'a' as unknown as number, 4, 3]), /object\[0\]/, /field 'bndbox.ymin'/],
  ])('%s is an error naming file and object', async (_n, o, rec, msg) => {
    await vocLayout();
    await writeText(path.join(dir, 'Annotations/ünï two.xml'), xml('ünï two.jpg', o));
    const ds = await importVoc(dir);
    const e = ds.issues.find((i) => i.level === 'error')!;
    expect(e.file).toBe('Annotations/ünï two.xml');
    expect(e.record).toMatch(rec);
    expect(e.message).toMatch(msg);
  });

  it('truncated XML and path traversal in filename are errors', async () => {
    await vocLayout();
    await writeText(path.join(dir, 'Annotations/ünï two.xml'), xml('ünï two.jpg', obj('dog', [1, 1, 2, 2])).slice(0, 120));
    await writeText(path.join(dir, 'Annotations/2007_000001.xml'), xml('../../../etc/passwd', ''));
    const ds = await importVoc(dir);
    const errors = ds.issues.filter((i) => i.level === 'error');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ file: 'Annotations/2007_000001.xml', record: 'filename', message: expect.stringMatching(/path traversal/) });
    expect(errors[1]).toMatchObject({ file: 'Annotations/ünï two.xml', message: expect.stringMatching(/invalid XML/) });
  });
});

describe('VOC export', () => {
  it('writes XML boxes, instance PNGs and splits, and reads back the same', async () => {
    await vocLayout();
    const ds = await importVoc(dir);
    ds.annotations.push({ imageKey: 'ünï two', className: 'cat', geometry: { kind: 'polygon', rings: [[4, 1, 7, 1, 7, 4, 4, 4]] }, score: 0.5 });
    ds.classes.push({ name: 'cat' });
    const out = path.join(dir, 'out');
    const report = await exportVoc(ds, out);
    expect(report.files).toContain('SegmentationObject/2007_000001.png');
    expect(report.files).toContain('JPEGImages/ünï two.jpg');
    expect(report.converted[0]).toMatch(/3 polygons\/masks written as boxes/);
    expect(report.dropped).toContain('scores of 1 annotation');
    const x = await readFile(path.join(out, 'Annotations/2007_000001.xml'), 'utf8');
    expect(x).toMatch(/<xmin>1<\/xmin>\s*<ymin>1<\/ymin>\s*<xmax>2<\/xmax>\s*<ymax>2<\/ymax>/);
    const back = await importVoc(out);
    expect(back.issues.filter((i) => i.level === 'error')).toEqual([]);
    expect(back.images.map((i) => [i.key, i.split])).toEqual([['2007_000001', 'train'], ['ünï two', 'val']]);
    const masks = back.annotations.filter((a) => a.imageKey === '2007_000001');
    expect(masks.map((a) => a.geometry)).toEqual(ds.annotations.filter((a) => a.imageKey === '2007_000001').map((a) => a.geometry));
    const poly = back.annotations.find((a) => a.className === 'cat')!;
    expect(poly.geometry.kind).toBe('mask');
    if (poly.geometry.kind === 'mask') expect(decodeMask(poly.geometry.rle).reduce((s, v) => s + v, 0)).toBe(9);
  });

  it('rounds fractional boxes and says so', async () => {
    await writeImage(path.join(dir, 'a.jpg'), 10, 10);
    const ds: Dataset = {
      images: [{ key: 'k', fileName: 'a.jpg', absPath: path.join(dir, 'a.jpg'), width: 10, height: 10 }],
      classes: [{ name: 'c' }],
      annotations: [{ imageKey: 'k', className: 'c', geometry: { kind: 'box', x: 0.4, y: 1, w: 3.2, h: 2 }, iscrowd: true }],
      issues: [],
    };
    const report = await exportVoc(ds, path.join(dir, 'o'), { images: 'none' });
    expect(report.converted).toEqual(['1 box rounded to whole pixels (VOC coordinates are integers)']);
    expect(report.dropped).toContain('crowd flag of 1 annotation');
    const back = await importVoc(path.join(dir, 'o'));
    expect(back.annotations[0].geometry).toEqual({ kind: 'box', x: 0, y: 1, w: 4, h: 2 });
  });
});

describe('VOC flags and attributes', () => {
  it('reads difficult/truncated/occluded and CVAT <attributes>, and writes them back unchanged (round trip)', async () => {
    await writeImage(path.join(dir, 'JPEGImages/a.jpg'), 8, 6);
    const attrs = '<attributes><attribute><name>color</name><value>red</value></attribute>' +
      '<attribute><name>parked</name><value>true</value></attribute><attribute><name>doors</name><value>4</value></attribute>' +
      '<attribute><name>occluded</name><value>false</value></attribute></attributes>';
    await writeText(path.join(dir, 'Annotations/a.xml'), xml('a.jpg',
      obj('car', [1, 1, 4, 3], '<truncated>1</truncated><difficult>0</difficult><occluded>1</occluded>' + attrs) +
      obj('car', [2, 2, 5, 5], '<difficult>1</difficult>') + obj('car', [3, 3, 6, 6])));
    const ds = await importVoc(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.annotations.map((a) => [a.flags, a.attributes])).toEqual([
      [{ truncated: true, occluded: true }, { color: 'red', parked: true, doors: 4 }],
      [{ difficult: true }, undefined],
      [undefined, undefined],
    ]);
    const out = path.join(dir, 'out');
    await exportVoc(ds, out, { images: 'none' });
    const x = await readFile(path.join(out, 'Annotations/a.xml'), 'utf8');
    expect(x).toMatch(/<truncated>1<\/truncated>\s*<difficult>0<\/difficult>\s*<occluded>1<\/occluded>/);
    expect(x).toMatch(/<attribute>\s*<name>color<\/name>\s*<value>red<\/value>\s*<\/attribute>/);
    const back = await importVoc(out);
    expect(back.annotations.map((a) => [a.flags, a.attributes])).toEqual(ds.annotations.map((a) => [a.flags, a.attributes]));
  });

  it('says image tags are not written (VOC has no image-level labels)', async () => {
    await writeImage(path.join(dir, 'a.jpg'), 10, 10);
    const ds: Dataset = {
      images: [{ key: 'k', fileName: 'a.jpg', absPath: path.join(dir, 'a.jpg'), width: 10, height: 10, tags: ['night'] }],
      classes: [{ name: 'c' }],
      annotations: [],
      issues: [],
    };
    const report = await exportVoc(ds, path.join(dir, 'o'), { images: 'none' });
    expect(report.dropped).toContain('image tags of 1 image (VOC has no image-level labels)');
  });
});
