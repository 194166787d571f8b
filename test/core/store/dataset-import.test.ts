import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../src-main/core/datasets/types';
import { createProject, type SqliteProjectStore } from '../../../src-main/core/store/project';
import { makeImage, tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
let store: SqliteProjectStore;
let files: string[];

const filesUnder = (d: string): string[] =>
  existsSync(d) ? readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];

beforeEach(async () => {
  t = tempDir('hst-dsimport-');
  store = createProject(join(t.dir, 'proj'));
  files = [];
  for (let i = 0; i < 3; i++) {
    const f = join(t.dir, `im ${i}.jpg`);
    writeFileSync(f, await makeImage(40 + i, 30, 10 + i));
    files.push(f);
  }
});
afterEach(() => {
  store.close();
  t.cleanup();
});

const dataset = (): Dataset => ({
  images: files.map((f, i) => ({ key: String(100 + i), fileName: `im ${i}.jpg`, absPath: f, width: 40 + i, height: 30, split: i === 2 ? 'val' : 'train' })),
  classes: [{ name: 'cat', sourceId: 17 }, { name: 'dog', color: '#123456', sourceId: 3 }],
  annotations: [
    { imageKey: '100', className: 'cat', geometry: { kind: 'box', x: 1.5, y: 2, w: 3, h: 4 }, sourceId: 501 },
    { imageKey: '100', className: 'dog', geometry: { kind: 'polygon', rings: [[0, 0, 5, 0, 5, 5], [6, 6, 8, 6, 8, 8]] }, sourceId: 502 },
    { imageKey: '101', className: 'dog', geometry: { kind: 'mask', rle: { size: [30, 41], counts: 'abc' } }, iscrowd: true, sourceId: 'x9' },
    { imageKey: '102', className: 'cat', geometry: { kind: 'box', x: 0, y: 0, w: 1, h: 1 }, score: 0.25 },
  ],
  issues: [{ level: 'warning', file: 'ann.json', record: 'annotations[7]', message: 'zero-area box dropped' }],
});

describe('importDataset / toDataset', () => {
  it('imports images, classes and annotations in one revision and exports them back unchanged', async () => {
    const r0 = store.revision();
    const r = await store.importDataset(dataset());
    expect(r).toMatchObject({ images: 3, annotations: 4, classes: 2, warnings: ['ann.json: annotations[7]: zero-area box dropped'], skippedImages: 0, unchanged: false });
    expect(store.revision()).toBe(r0 + 1);
    expect(store.imageCounts()).toMatchObject({ all: 3, labeled: 3 });
    expect(store.listClasses().map((c) => [c.name, c.color, c.order])).toEqual([['cat', '#e6194b', 0], ['dog', '#123456', 1]]);
    expect(filesUnder(join(store.dir, 'media'))).toHaveLength(3);

    const out = store.toDataset();
    const src = dataset();
    expect(out.classes).toEqual([{ name: 'cat', color: '#e6194b', sourceId: 17 }, { name: 'dog', color: '#123456', sourceId: 3 }]);
    expect(out.images.map((i) => [i.fileName, i.width, i.height, i.split])).toEqual(src.images.map((i) => [i.fileName, i.width, i.height, i.split]));
    const keyOf = new Map(out.images.map((im, i) => [im.key, src.images[i].key]));
    expect(out.annotations.map((a) => ({ ...a, imageKey: keyOf.get(a.imageKey) }))).toEqual(src.annotations);
    for (const im of out.images) expect(existsSync(im.absPath!)).toBe(true);

    expect(store.toDataset({ splits: ['val'] }).annotations).toHaveLength(1);
  });

  it('strict: fails as a whole on a bad image: nothing in the database, no media left behind', async () => {
    const bad = join(t.dir, 'broken.jpg');
    const good = await makeImage(50, 50, 99);
    writeFileSync(bad, good.subarray(0, good.length - 200));
    const ds = dataset();
    ds.images.push({ key: 'b', fileName: 'broken.jpg', absPath: bad, width: 50, height: 50 });
    await expect(store.importDataset(ds, { strict: true })).rejects.toThrow(/the dataset has 1 error; nothing was imported:\n  broken.jpg: the file is truncated/);
    expect(store.revision()).toBe(0);
    expect(store.listImages().total).toBe(0);
    expect(store.listClasses()).toEqual([]);
    expect(filesUnder(join(store.dir, 'media'))).toEqual([]);
  });

  it('fails on declared size mismatch, dataset errors, undeclared classes and unknown images', async () => {
    const ds = dataset();
    ds.images[1].width = 999;
    await expect(store.importDataset(ds)).rejects.toThrow(/im 1.jpg: declared as 999×30 but the file is 41×30/);

    const withErr = dataset();
    withErr.issues.push({ level: 'error', file: 'ann.json', record: 'annotations[3] (id 9)', message: 'bbox has negative width' });
    await expect(store.importDataset(withErr)).rejects.toThrow(/ann.json: annotations\[3\] \(id 9\): bbox has negative width/);

    const refs = dataset();
    refs.annotations.push({ imageKey: 'nope', className: 'bird', geometry: { kind: 'box', x: 0, y: 0, w: -1, h: 1 }, sourceId: 77 });
    await expect(store.importDataset(refs)).rejects.toThrow(/the dataset has 3 errors[\s\S]*annotation 77 \(image nope\): no image with key nope[\s\S]*class 'bird' is not declared[\s\S]*invalid geometry at w/);
    expect(store.listImages().total).toBe(0);
    expect(filesUnder(join(store.dir, 'media'))).toEqual([]);
  });

  it('skips missing files with a warning, merges duplicate content, and adds to images already in the project', async () => {
    await store.ingest([files[0]]);
    const ds = dataset();
    ds.images[1].absPath = null;
    ds.images.push({ key: 'twin', fileName: 'twin.jpg', absPath: files[2], width: 0, height: 0 });
    ds.annotations.push({ imageKey: 'twin', className: 'cat', geometry: { kind: 'box', x: 0, y: 0, w: 2, h: 2 } });
    const r = await store.importDataset(ds);
    expect(r.images).toBe(1);
    expect(r.annotations).toBe(4);
    expect(r.warnings.join('\n')).toMatch(/1 image is already in the project: annotations they already have were not added again/);
    expect(r.warnings.join('\n')).toMatch(/twin.jpg: same content as 'im 2.jpg': merged into one image/);
    expect(r.warnings.join('\n')).toMatch(/im 1.jpg: the image file is missing; skipped with its annotations/);
    expect(r.warnings.join('\n')).toMatch(/1 annotation on skipped images was not imported/);
    expect(r.skippedImages).toBe(1);
    expect(store.listImages().total).toBe(2);
    expect(store.annotationsOf(1)).toHaveLength(2);
  });

  it('cancels before writing anything', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(store.importDataset(dataset(), { signal: ac.signal })).rejects.toThrow(/cancelled; nothing was imported/);
    expect(store.listImages().total).toBe(0);
  });

  it('makes exported file names unique', async () => {
    const ds = dataset();
    ds.images[1].fileName = 'im 0.jpg';
    ds.images[1].width = 0;
    await store.importDataset(ds);
    expect(store.toDataset().images.map((i) => i.fileName)).toEqual(['im 0.jpg', 'im 0-2.jpg', 'im 2.jpg']);
  });
});
