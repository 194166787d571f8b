// COCO as CVAT, Datumaro, Roboflow and labelme2coco write it (our own small fixtures in their layouts), and the
// per-split export that reads back into the same splits.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importCoco } from '../../../src-main/core/datasets/coco-import';
import { exportCoco } from '../../../src-main/core/datasets/coco-export';
import { detectFormat } from '../../../src-main/core/datasets/detect-format';
import { formatZodIssues } from '../../../src-main/core/datasets/issues';
import { z } from 'zod';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('hst-cl-')));
afterEach(async () => cleanup());

/** CVAT "COCO 1.0" export with two subsets: annotations/instances_<subset>.json, images/<subset>/<file_name>. */
async function cvatCoco(root: string, subsets: Record<string, string[]> = { train: ['frame_000000.jpg', 'frame_000001.jpg'], Validation: ['frame_000002.jpg'] }) {
  let id = 1;
  let annId = 1;
  for (const [subset, files] of Object.entries(subsets)) {
    const images = files.map((f) => ({ id: id++, width: 32, height: 24, file_name: f, license: 0, flickr_url: '', coco_url: '', date_captured: 0 }));
    for (const [i, f] of files.entries()) await writeImage(path.join(root, 'images', subset, f), 32, 24 + 0 * i);
    const annotations = images.map((im) => ({ id: annId++, image_id: im.id, category_id: 1, segmentation: [], area: 40, bbox: [2, 3, 8, 5], iscrowd: 0, attributes: { occluded: false } }));
    await writeText(
      path.join(root, 'annotations', `instances_${subset}.json`),
      JSON.stringify({ licenses: [{ name: '', id: 0, url: '' }], info: { contributor: '', date_created: '', description: '', url: '', version: '', year: '' }, categories: [{ id: 1, name: 'car', supercategory: '' }, { id: 2, name: 'bus', supercategory: '' }], images, annotations }),
    );
  }
}

describe('CVAT / Datumaro COCO folders', () => {
  it('finds images under images/<subset>/ and takes each split from the subset name', async () => {
    await cvatCoco(dir);
    expect(await detectFormat(dir)).toBe('coco');
    const ds = await importCoco(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.images.map((i) => [i.fileName, i.split, i.absPath !== null])).toEqual([
      ['frame_000002.jpg', 'val', true],
      ['frame_000000.jpg', 'train', true],
      ['frame_000001.jpg', 'train', true],
    ]);
    expect(ds.images[0].absPath).toBe(path.join(dir, 'images/Validation/frame_000002.jpg'));
    expect(ds.classes.map((c) => c.name)).toEqual(['car', 'bus']);
    expect(ds.annotations).toHaveLength(3);
    // keys stay unique across the subsets' files (both start their ids at 1 in real exports)
    expect(new Set(ds.images.map((i) => i.key)).size).toBe(3);
  });

  it("Datumaro's 'default' subset has no split; one JSON given directly still finds images/<subset>/", async () => {
    await cvatCoco(dir, { default: ['a.jpg'] });
    const ds = await importCoco(path.join(dir, 'annotations', 'instances_default.json'));
    expect(ds.issues).toEqual([]);
    expect(ds.images[0]).toMatchObject({ absPath: path.join(dir, 'images/default/a.jpg') });
    expect(ds.images[0].split).toBeUndefined();
  });

  it('Roboflow COCO: <split>/_annotations.coco.json beside the images, split from the folder', async () => {
    for (const split of ['train', 'valid']) {
      await writeImage(path.join(dir, split, `${split}1.jpg`), 16, 16);
      await writeText(path.join(dir, split, '_annotations.coco.json'), JSON.stringify({
        categories: [{ id: 0, name: 'pets', supercategory: 'none' }, { id: 1, name: 'cat', supercategory: 'pets' }],
        images: [{ id: 0, file_name: `${split}1.jpg`, height: 16, width: 16 }],
        annotations: [{ id: 0, image_id: 0, category_id: 1, bbox: [1, 1, 4, 4], area: 16, segmentation: [], iscrowd: 0 }],
      }));
    }
    expect(await detectFormat(dir)).toBe('coco');
    const ds = await importCoco(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.images.map((i) => [i.fileName, i.split])).toEqual([['train1.jpg', 'train'], ['valid1.jpg', 'val']]);
  });

  it('a folder without COCO JSON says what it looked for instead of EISDIR', async () => {
    await writeImage(path.join(dir, 'x.jpg'), 4, 4);
    await expect(importCoco(dir)).rejects.toThrow(/is a folder without a COCO JSON in it \(looked for annotations\/instances_<subset>\.json/);
    await expect(importCoco(path.join(dir, 'missing'))).rejects.toThrow(/missing: no such file or folder/);
  });
});

describe('COCO nulls that pycocotools accepts', () => {
  it('labelme2coco output: supercategory null, area null, segmentation null with a bbox', async () => {
    await writeImage(path.join(dir, 'JPEGImages/a.jpg'), 20, 20);
    await writeText(path.join(dir, 'annotations.json'), JSON.stringify({
      info: { description: null, url: null, version: null, year: 2024, contributor: null, date_created: '2024-01-01' },
      licenses: [{ url: null, id: 0, name: null }],
      images: [{ license: 0, url: null, file_name: 'JPEGImages/a.jpg', height: 20, width: 20, date_captured: null, id: 0 }],
      type: 'instances',
      annotations: [
        { id: 0, image_id: 0, category_id: 1, segmentation: [[1, 1, 9, 1, 9, 9]], area: 32.0, bbox: [1, 1, 8, 8], iscrowd: 0 },
        { id: 1, image_id: 0, category_id: 1, segmentation: null, area: null, bbox: [2, 2, 3, 3], iscrowd: 0 },
      ],
      categories: [{ supercategory: null, id: 0, name: '_background_' }, { supercategory: null, id: 1, name: 'dog' }],
    }));
    const ds = await importCoco(path.join(dir, 'annotations.json'));
    expect(ds.issues).toEqual([]);
    expect(ds.annotations.map((a) => a.geometry.kind)).toEqual(['polygon', 'box']);
  });

  it('one wrong field is one clause, and a union says what it expected', () => {
    const r = z.object({ width: z.number().int().nonnegative(), id: z.union([z.number(), z.string()]) }).safeParse({ width: -1.5, id: null });
    expect(r.success).toBe(false);
    const msg = formatZodIssues(r.error!.issues);
    expect(msg.match(/field 'width'/g)).toHaveLength(1);
    expect(msg).toMatch(/field 'id': Invalid input: expected number or string, received null/);
  });
});

describe('COCO export by split', () => {
  it('writes instances_<split>.json beside images/<split>/ and reads back into the same splits', async () => {
    await cvatCoco(dir, { train: ['t1.jpg', 't2.jpg'], val: ['v1.jpg'], test: ['s1.jpg'] });
    const ds = await importCoco(dir);
    const out = path.join(dir, 'out');
    const report = await exportCoco(ds, out);
    expect(report.files.slice(0, 3)).toEqual(['annotations/instances_train.json', 'annotations/instances_val.json', 'annotations/instances_test.json']);
    expect(report.files).toContain('images/val/v1.jpg');
    const val = JSON.parse(await readFile(path.join(out, 'annotations/instances_val.json'), 'utf8'));
    expect(val.images.map((i: { file_name: string }) => i.file_name)).toEqual(['v1.jpg']);
    expect(val.annotations).toHaveLength(1);
    expect(val.categories.map((c: { name: string }) => c.name)).toEqual(['car', 'bus']);
    const back = await importCoco(out);
    expect(back.issues).toEqual([]);
    const splitOf = (d: typeof ds) => Object.fromEntries(d.images.map((i) => [i.fileName, i.split]));
    expect(splitOf(back)).toEqual(splitOf(ds));
    expect(back.annotations.map((a) => a.geometry)).toEqual(ds.annotations.map((a) => a.geometry));
  });
});
