// What real exports bring to the store: damaged photos, duplicate files, datasets imported twice, labels drawn
// on the raw pixels of EXIF-rotated photos, boxes beyond the image, and imports that would bring nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset, DatasetImage } from '../../../src-main/core/datasets/types';
import { exportCoco } from '../../../src-main/core/datasets/coco-export';
import { importCoco } from '../../../src-main/core/datasets/coco-import';
import { exportVoc } from '../../../src-main/core/datasets/voc-export';
import { importVoc } from '../../../src-main/core/datasets/voc-import';
import { createProject, type SqliteProjectStore } from '../../../src-main/core/store/project';
import { tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
let store: SqliteProjectStore;
beforeEach(() => {
  t = tempDir('hst-dsreal-');
  store = createProject(join(t.dir, 'proj'));
});
afterEach(() => {
  store.close();
  t.cleanup();
});

/** A photo-like JPEG (noisy pixels, so a cut file really loses data), optionally EXIF-rotated. */
async function photo(name: string, w: number, h: number, seed: number, orientation?: number): Promise<string> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + seed * 101) % 251;
  let img = sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg();
  if (orientation) img = img.withMetadata({ orientation });
  const f = join(t.dir, name);
  writeFileSync(f, await img.toBuffer());
  return f;
}

const image = (key: string, absPath: string | null, width = 0, height = 0, extra: Partial<DatasetImage> = {}): DatasetImage => ({ key, fileName: `${key}.jpg`, absPath, width, height, ...extra });
const boxAt = (imageKey: string, x: number, y = 1, w = 4, h = 3, className = 'cat') => ({ imageKey, className, geometry: { kind: 'box' as const, x, y, w, h } });

describe('damaged images', () => {
  it('a JPEG missing only its end marker is mended; one cut inside the pixels is skipped with its annotations, counted', async () => {
    const ok = await photo('ok.jpg', 40, 30, 1);
    const noEoi = await photo('no-eoi.jpg', 40, 30, 2);
    writeFileSync(noEoi, readFileSync(noEoi).subarray(0, -2));
    const cut = await photo('cut.jpg', 40, 30, 3);
    writeFileSync(cut, readFileSync(cut).subarray(0, -300));
    const ds: Dataset = {
      images: [image('ok', ok, 40, 30), image('no-eoi', noEoi, 40, 30), image('cut', cut, 40, 30)],
      classes: [{ name: 'cat' }],
      annotations: [boxAt('ok', 1), boxAt('no-eoi', 2), boxAt('cut', 3), boxAt('cut', 4)],
      issues: [],
    };
    const r = await store.importDataset(ds);
    expect([r.images, r.annotations, r.skippedImages]).toEqual([2, 2, 1]);
    const text = r.warnings.join('\n');
    expect(text).toMatch(/no-eoi.jpg: the JPEG end marker was missing; the image is complete without it and was imported/);
    expect(text).toMatch(/cut.jpg: the file is truncated or damaged .*; skipped with its annotations/);
    expect(text).toMatch(/2 annotations on skipped images were not imported/);
    // strict keeps all-or-nothing
    const again = createProject(join(t.dir, 'proj2'));
    try {
      await expect(again.importDataset(ds, { strict: true })).rejects.toThrow(/cut.jpg: the file is truncated or damaged .*strict import: nothing was imported/);
      expect([again.revision(), again.listImages().total, again.listClasses().length]).toEqual([0, 0, 0]);
    } finally {
      again.close();
    }
  });

  it('an import that brings no image, or drops every label, fails and leaves no class behind', async () => {
    const none: Dataset = { images: [], classes: [{ name: 'ghost' }], annotations: [], issues: [] };
    await expect(store.importDataset(none)).rejects.toThrow(/no images were found in it, so there is nothing to import/);
    const cut = await photo('cut.jpg', 40, 30, 3);
    writeFileSync(cut, readFileSync(cut).subarray(0, -300));
    const ok = await photo('ok.jpg', 40, 30, 1);
    const dropped: Dataset = {
      images: [image('cut', cut), image('ok', ok)],
      classes: [{ name: 'ghost' }],
      annotations: [boxAt('cut', 1, 1, 4, 3, 'ghost')],
      issues: [],
    };
    await expect(store.importDataset(dropped)).rejects.toThrow(/every one of its 1 annotation was dropped \(1 on skipped images\); nothing was imported/);
    const missing: Dataset = { images: [image('a', null), image('b', null)], classes: [{ name: 'ghost' }], annotations: [], issues: [] };
    await expect(store.importDataset(missing)).rejects.toThrow(/none of its 2 images could be imported \(2 missing\)/);
    expect([store.revision(), store.listImages().total, store.listClasses().length]).toEqual([0, 0, 0]);
  });
});

describe('duplicates and re-imports', () => {
  it('byte-identical files become one image carrying each distinct annotation once', async () => {
    const a = await photo('a.jpg', 40, 30, 1);
    const b = join(t.dir, 'copy-of-a.jpg');
    writeFileSync(b, readFileSync(a));
    const ds: Dataset = {
      images: [image('a', a), image('b', b)],
      classes: [{ name: 'cat' }],
      annotations: [boxAt('a', 1), boxAt('a', 5), boxAt('b', 1), boxAt('b', 9)],
      issues: [],
    };
    const r = await store.importDataset(ds);
    expect([r.images, r.annotations]).toEqual([1, 3]);
    expect(r.warnings.join('\n')).toMatch(/1 annotation exactly repeating another on the same image \(duplicate image files\) was merged/);
    expect(store.annotationsOf(1).map((x) => (x.geometry.kind === 'box' ? x.geometry.x : -1)).sort()).toEqual([1, 5, 9]);
  });

  it('importing the same dataset again changes nothing (no revision); replace swaps the annotations', async () => {
    const a = await photo('a.jpg', 40, 30, 1);
    const c = await photo('c.jpg', 40, 30, 2);
    const ds = (): Dataset => ({
      images: [image('a', a, 0, 0, { split: 'train' }), image('c', c, 0, 0, { split: 'val' })],
      classes: [{ name: 'cat' }],
      annotations: [boxAt('a', 1), boxAt('c', 2)],
      issues: [],
    });
    await store.importDataset(ds());
    const rev = store.revision();
    const again = await store.importDataset(ds());
    expect(again).toMatchObject({ images: 0, annotations: 0, classes: 0, unchanged: true });
    expect(store.revision()).toBe(rev);
    expect(store.listImages().total).toBe(2);
    expect(store.annotationsOf(1)).toHaveLength(1);

    const changed = ds();
    changed.annotations = [boxAt('a', 7)];
    changed.images[1].split = 'test';
    const replaced = await store.importDataset(changed, { replace: true });
    expect(replaced.unchanged).toBe(false);
    expect(store.revision()).toBe(rev + 1);
    expect(store.annotationsOf(1).map((x) => (x.geometry.kind === 'box' ? x.geometry.x : -1))).toEqual([7]);
    expect(store.annotationsOf(2)).toEqual([]);
    expect(store.getImage(2)?.split).toBe('test');
  });
});

describe('EXIF-rotated photos labelled on their stored pixels', () => {
  // stored 40×20; a box in the top-left corner of the stored pixels
  const raw = { x: 2, y: 3, w: 10, h: 5 };
  it.each([
    [6, { x: 20 - 3 - 5, y: 2, w: 5, h: 10 }], // shown turned clockwise: the top-left corner goes top-right
    [8, { x: 3, y: 40 - 2 - 10, w: 5, h: 10 }], // shown turned counter-clockwise: it goes bottom-left
  ])('orientation %i: the box turns with the pixels, and COCO and VOC exports read back the same', async (o, shown) => {
    const f = await photo(`r${o}.jpg`, 40, 20, o, o);
    const ds: Dataset = { images: [image('r', f, 40, 20)], classes: [{ name: 'cat' }], annotations: [{ imageKey: 'r', className: 'cat', geometry: { kind: 'box', ...raw } }], issues: [] };
    const r = await store.importDataset(ds);
    expect(r.warnings.join('\n')).toMatch(/1 image is EXIF-rotated and was labelled on the stored pixels: its annotations were turned with the picture/);
    expect(store.getImage(1)).toMatchObject({ width: 20, height: 40, orientation: o });
    expect(store.annotationsOf(1)[0].geometry).toEqual({ kind: 'box', ...shown });

    // exports describe the displayed picture (its size and boxes), and come back unchanged
    const out = store.toDataset();
    await exportCoco(out, join(t.dir, `coco${o}`));
    const coco = await importCoco(join(t.dir, `coco${o}`));
    expect(coco.images[0]).toMatchObject({ width: 20, height: 40 });
    expect(coco.annotations[0].geometry).toEqual({ kind: 'box', ...shown });
    await exportVoc(out, join(t.dir, `voc${o}`));
    const voc = await importVoc(join(t.dir, `voc${o}`));
    expect(voc.images[0]).toMatchObject({ width: 20, height: 40 });
    expect(voc.annotations[0].geometry).toEqual({ kind: 'box', ...shown });
    // and re-importing that export into the project is a no-op: same frame, nothing turned twice
    expect((await store.importDataset(coco)).unchanged).toBe(true);
  });
});

describe('geometry outside the image', () => {
  it('is clipped with a warning (sub-pixel overshoot silently), and dropped when wholly outside', async () => {
    const f = await photo('a.jpg', 40, 30, 1);
    const ds: Dataset = {
      images: [image('a', f, 40, 30)],
      classes: [{ name: 'cat' }],
      annotations: [
        boxAt('a', 35, 25, 10, 10), // beyond the bottom-right corner
        boxAt('a', -0.4, 0, 10, 10), // rounding in the source
        boxAt('a', 50, 1, 5, 5), // wholly outside
        { imageKey: 'a', className: 'cat', geometry: { kind: 'polygon', rings: [[-5, 5, 20, 5, 20, 40]] } },
      ],
      issues: [],
    };
    const r = await store.importDataset(ds);
    expect(r.annotations).toBe(3);
    expect(store.annotationsOf(1).map((a) => a.geometry)).toEqual([
      { kind: 'box', x: 35, y: 25, w: 5, h: 5 },
      { kind: 'box', x: 0, y: 0, w: 9.6, h: 10 },
      { kind: 'polygon', rings: [[0, 5, 20, 5, 20, 30]] },
    ]);
    const w = r.warnings.filter((x) => /outside/.test(x));
    expect(w).toEqual([
      'a.jpg: cat box reaches outside the 40×30 image; clipped to it',
      'a.jpg: cat box lies wholly outside the 40×30 image; dropped',
      'a.jpg: cat polygon reaches outside the 40×30 image; clipped to it',
    ]);
  });
});

describe('the same box beyond the edge, from COCO, VOC and YOLO', () => {
  it('is clipped and warned about alike', async () => {
    const { importYolo } = await import('../../../src-main/core/datasets/yolo-import');
    const src = join(t.dir, 'src');
    const { mkdirSync } = await import('node:fs');
    for (const d of ['coco', 'voc/JPEGImages', 'voc/Annotations', 'yolo/images/train', 'yolo/labels/train']) mkdirSync(join(src, d), { recursive: true });
    // one 40×30 photo per format (distinct pixels), a box from x 30 to 50 (past the right edge), y 10 to 20
    const f1 = await photo('c.jpg', 40, 30, 11);
    writeFileSync(join(src, 'coco/c.jpg'), readFileSync(f1));
    writeFileSync(join(src, 'coco/annotations.json'), JSON.stringify({ images: [{ id: 1, file_name: 'c.jpg', width: 40, height: 30 }], categories: [{ id: 1, name: 'cat' }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [30, 10, 20, 10] }] }));
    const f2 = await photo('v.jpg', 40, 30, 12);
    writeFileSync(join(src, 'voc/JPEGImages/v.jpg'), readFileSync(f2));
    writeFileSync(join(src, 'voc/Annotations/v.xml'), '<annotation><filename>v.jpg</filename><size><width>40</width><height>30</height></size><object><name>cat</name><bndbox><xmin>31</xmin><ymin>11</ymin><xmax>50</xmax><ymax>20</ymax></bndbox></object></annotation>');
    const f3 = await photo('y.jpg', 40, 30, 13);
    writeFileSync(join(src, 'yolo/images/train/y.jpg'), readFileSync(f3));
    writeFileSync(join(src, 'yolo/labels/train/y.txt'), '0 1 0.5 0.5 0.3333333333333333\n');
    writeFileSync(join(src, 'yolo/data.yaml'), 'train: images/train\nnames: [cat]\n');
    const sets = [await importCoco(join(src, 'coco/annotations.json')), await importVoc(join(src, 'voc')), await importYolo(join(src, 'yolo'))];
    const got = [];
    for (const ds of sets) {
      expect(ds.issues).toEqual([]); // readers leave it to the store
      const r = await store.importDataset(ds);
      // the record differs by format (annotation id, object index, label line); the words do not
      got.push(r.warnings.filter((w) => /outside/.test(w)).map((w) => w.replace(/^[^:]+: /, '').replace(/ \(\S+\)/, '')));
    }
    expect(got).toEqual(Array(3).fill(['cat box reaches outside the 40×30 image; clipped to it']));
    const boxes = [1, 2, 3].map((id) => store.annotationsOf(id)[0].geometry).map((g) => (g.kind === 'box' ? [g.x, g.y, g.w, g.h].map((v) => Math.round(v * 1e6) / 1e6) : []));
    expect(boxes).toEqual(Array(3).fill([30, 10, 10, 10]));
  });
});
