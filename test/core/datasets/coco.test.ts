import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importCoco, splitFromFileName } from '../../../src-main/core/datasets/coco-import';
import { exportCoco } from '../../../src-main/core/datasets/coco-export';
import { area, countsFromString, encodeMask, encodeMaskRaw, toBbox } from '../../../src-main/core/geometry/rle';
import { polygonsToRle, ringsBbox } from '../../../src-main/core/geometry/rasterize';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const H = 12;
const W = 16;
function blob(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}

/** A COCO file with every awkward case the format allows, areas/bboxes as pycocotools would compute them. */
function awkwardCoco() {
  const rle = encodeMask(blob(2, 3, 9, 10), H, W);
  const raw = encodeMaskRaw(blob(5, 0, 7, 12), H, W);
  const rings = [[1, 1, 6, 1, 6, 5, 1, 5], [8.5, 6.25, 14, 6, 12, 11]];
  return {
    info: { description: 'awkward' },
    images: [
      { id: 10, file_name: 'ünï cödé/pic one.jpg', width: W, height: H },
      { id: 42, file_name: 'empty.png', width: W, height: H },
      { id: 7, file_name: 'b.jpg', width: W, height: H },
    ],
    categories: [
      { id: 90, name: 'zebra', supercategory: 'animal' },
      { id: 3, name: 'car' },
      { id: 17, name: 'größe' },
    ],
    annotations: [
      { id: 1001, image_id: 10, category_id: 3, bbox: [1.5, 2.25, 4, 3], area: 12, iscrowd: 0, segmentation: [] },
      { id: 1002, image_id: 10, category_id: 90, segmentation: rings, area: area(polygonsToRle(rings, H, W)), bbox: ringsBbox(rings), iscrowd: 0 },
      { id: 1003, image_id: 7, category_id: 17, segmentation: rle, area: area(rle), bbox: toBbox(rle), iscrowd: 1 },
      { id: 1004, image_id: 7, category_id: 3, segmentation: raw, area: area(raw), bbox: toBbox(raw), iscrowd: 1 },
    ],
  };
}

async function writeDataset(coco: object, imgs = ['ünï cödé/pic one.jpg', 'empty.png', 'b.jpg']) {
  for (const f of imgs) await writeImage(path.join(dir, 'src', 'images', f), W, H);
  await writeText(path.join(dir, 'src', 'annotations.json'), JSON.stringify(coco));
  return path.join(dir, 'src', 'annotations.json');
}

describe('COCO import', () => {
  it('reads boxes, multi-part polygons, compressed and uncompressed RLE, crowd, sparse category ids', async () => {
    const coco = awkwardCoco();
    const ds = await importCoco(await writeDataset(coco));
    expect(ds.issues).toEqual([]);
    expect(ds.images.map((i) => [i.key, i.fileName, i.absPath !== null])).toEqual([
      ['10', 'ünï cödé/pic one.jpg', true],
      ['42', 'empty.png', true],
      ['7', 'b.jpg', true],
    ]);
    expect(ds.classes).toEqual([
      { name: 'zebra', sourceId: 90 },
      { name: 'car', sourceId: 3 },
      { name: 'größe', sourceId: 17 },
    ]);
    const [box, poly, rle, raw] = ds.annotations;
    expect(box.geometry).toEqual({ kind: 'box', x: 1.5, y: 2.25, w: 4, h: 3 });
    expect(poly.geometry).toEqual({ kind: 'polygon', rings: coco.annotations[1].segmentation });
    expect(rle).toMatchObject({ iscrowd: true, className: 'größe', geometry: { kind: 'mask', rle: coco.annotations[2].segmentation } });
    expect(raw.geometry.kind).toBe('mask');
    if (raw.geometry.kind === 'mask') {
      expect(typeof raw.geometry.rle.counts).toBe('string');
      expect(countsFromString(raw.geometry.rle.counts)).toEqual((coco.annotations[3].segmentation as { counts: number[] }).counts);
    }
  });

  it('COCO → neutral → COCO gives the same annotations (RLE bit-exact, ids kept)', async () => {
    const coco = awkwardCoco();
    const ds = await importCoco(await writeDataset(coco));
    const report = await exportCoco(ds, path.join(dir, 'out'));
    // a folder gets the CVAT / Datumaro layout; images without a split are train
    expect(report.files).toContain('annotations/instances_train.json');
    expect(report.files).toContain('images/train/ünï cödé/pic one.jpg');
    const back = JSON.parse(await readFile(path.join(dir, 'out', 'annotations', 'instances_train.json'), 'utf8'));
    expect(back.images).toEqual(coco.images);
    expect(back.categories).toEqual(coco.categories.map(({ id, name }) => ({ id, name })));
    // the uncompressed RLE comes back compressed: same mask, string counts
    const expected = coco.annotations.map((a) =>
      Array.isArray((a.segmentation as { counts?: unknown }).counts)
        ? { ...a, segmentation: encodeMask(blob(5, 0, 7, 12), H, W) }
        : a,
    );
    expect(back.annotations).toEqual(expected);
    // and it imports again to the same neutral dataset
    const again = await importCoco(path.join(dir, 'out'));
    expect(again.issues).toEqual([]);
    expect(again.annotations).toEqual(ds.annotations);
    expect(again.images.map((i) => i.split)).toEqual(['train', 'train', 'train']);
  });

  it('renumbers non-integer keys and classes without source ids, and says so', async () => {
    const ds = await importCoco(await writeDataset(awkwardCoco()));
    ds.images[0].key = 'a/b';
    ds.annotations.forEach((a) => { if (a.imageKey === '10') a.imageKey = 'a/b'; });
    ds.classes.push({ name: 'new' });
    const report = await exportCoco(ds, path.join(dir, 'o2', 'x.json'), { images: 'none' });
    expect(report.converted.join('\n')).toMatch(/image ids renumbered/);
    const back = JSON.parse(await readFile(path.join(dir, 'o2', 'x.json'), 'utf8'));
    expect(back.categories.find((c: { name: string }) => c.name === 'new').id).toBe(91);
    expect(new Set(back.images.map((i: { id: number }) => i.id)).size).toBe(3);
  });
});

describe('COCO malformed input', () => {
  async function issuesOf(mutate: (c: ReturnType<typeof awkwardCoco>) => void) {
    const c = awkwardCoco();
    mutate(c);
    const ds = await importCoco(await writeDataset(c));
    return ds.issues;
  }

  it('truncated JSON names the file and the position', async () => {
    const p = await writeDataset(awkwardCoco());
    const text = await readFile(p, 'utf8');
    await writeFile(p, text.slice(0, 100));
    await expect(importCoco(p)).rejects.toThrow(/annotations\.json: JSON is truncated at line 1, column \d+/);
  });

  it('not a COCO file at all', async () => {
    const p = path.join(dir, 'x.json');
    await writeText(p, '{"shapes": []}');
    await expect(importCoco(p)).rejects.toThrow(/x\.json: not a COCO instances file: field 'images'/);
  });

  it('wrong types name the record and the field path', async () => {
    const issues = await issuesOf((c) => {
      (c.images[1] as Record<string, unknown>).width = 'wide';
      (c.annotations[0] as Record<string, unknown>).bbox = [1, 2, 'x', 4];
    });
    expect(issues).toEqual([
      expect.objectContaining({ level: 'error', file: 'annotations.json', record: 'images[1] (id 42)', message: expect.stringMatching(/field 'width'/) }),
      expect.objectContaining({ level: 'error', record: 'annotations[0] (id 1001)', message: expect.stringMatching(/field 'bbox\[2\]'/) }),
    ]);
  });

  it.each([
    ['annotation for a missing image', (c: any) => (c.annotations[0].image_id = 999), /image_id 999 is not in 'images'/],
    ['undeclared category', (c: any) => (c.annotations[0].category_id = 5), /category_id 5 is not declared/],
    ['bbox with negative size', (c: any) => (c.annotations[0].bbox = [1, 1, -3, 2]), /negative size \(width -3/],
    ['odd coordinate count', (c: any) => (c.annotations[1].segmentation = [[1, 1, 5, 1, 5, 5, 1]]), /odd number of coordinates \(7\)/],
    ['fewer than 3 points', (c: any) => (c.annotations[1].segmentation = [[1, 1, 5, 1, 5, 5, 1, 5], [1, 1, 2, 2]]), /segmentation\[1\] has 2 points/],
    ['RLE counts not summing to h·w', (c: any) => (c.annotations[3].segmentation.counts = [3, 4]), /sum to 7, expected height·width = 12·16 = 192/],
    ['compressed RLE with a wrong sum', (c: any) => (c.annotations[2].segmentation.counts = '05'), /sum to 5/],
    ['RLE of another size', (c: any) => (c.annotations[2].segmentation.size = [5, 5]), /differs from the image/],
    ['path traversal in file_name', (c: any) => (c.images[2].file_name = '../../etc/passwd'), /leaves the dataset root \(path traversal\)/],
    ['absolute path outside the root', (c: any) => (c.images[2].file_name = '/etc/passwd'), /absolute path '\/etc\/passwd' is outside/],
    ['duplicate image id', (c: any) => (c.images[2].id = 10), /image id 10 is declared twice/],
  ])('%s is an error naming the record', async (_name, mutate, re) => {
    const issues = await issuesOf(mutate);
    const errors = issues.filter((i) => i.level === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0].message).toMatch(re);
    expect(errors[0].file).toBe('annotations.json');
    expect(errors[0].record).toMatch(/^(annotations|images)\[\d+\]/);
  });

  it('an absolute path inside the root is accepted', async () => {
    const c = awkwardCoco();
    const p = await writeDataset(c);
    c.images[2].file_name = path.join(dir, 'src', 'images', 'b.jpg');
    await writeFile(p, JSON.stringify(c));
    const ds = await importCoco(p, { imagesDir: path.join(dir, 'src', 'images') });
    expect(ds.issues).toEqual([]);
    expect(ds.images[2].fileName).toBe('b.jpg');
  });

  it('a missing image file and a duplicated category name are warnings', async () => {
    const c = awkwardCoco();
    c.categories[2].name = 'car';
    const p = await writeDataset(c, ['ünï cödé/pic one.jpg', 'b.jpg']);
    const ds = await importCoco(p);
    expect(ds.issues.every((i) => i.level === 'warning')).toBe(true);
    expect(ds.issues.map((i) => i.message).join('\n')).toMatch(/image file not found: .*empty\.png/);
    expect(ds.classes[2].name).toBe('car (id 17)');
    expect(ds.images[1].absPath).toBeNull();
  });
});

describe('COCO layouts', () => {
  it('finds images in the sibling split folder of annotations/instances_<split>.json', async () => {
    const c = awkwardCoco();
    for (const f of ['ünï cödé/pic one.jpg', 'empty.png', 'b.jpg']) await writeImage(path.join(dir, 'val2017', f), W, H);
    await writeText(path.join(dir, 'annotations', 'instances_val2017.json'), JSON.stringify(c));
    const ds = await importCoco(path.join(dir, 'annotations', 'instances_val2017.json'));
    expect(ds.issues).toEqual([]);
    expect(ds.images[0].absPath).toBe(path.join(dir, 'val2017', 'ünï cödé/pic one.jpg'));
    expect(ds.images.map((i) => i.split)).toEqual(['val', 'val', 'val']);
    const forced = await importCoco(path.join(dir, 'annotations', 'instances_val2017.json'), { split: 'test' });
    expect(forced.images[0].split).toBe('test');
  });

  it.each([
    ['instances_train2017.json', 'train'],
    ['instances_val2017.json', 'val'],
    ['my-valid.json', 'val'],
    ['test.json', 'test'],
    ['annotations.json', undefined],
    ['trainval.json', undefined],
  ])('split from file name %s → %s', (name, split) => {
    expect(splitFromFileName(name)).toBe(split);
  });
});

describe('COCO iscrowd, attributes and tags', () => {
  it('reads CVAT attributes ({occluded, rotation, <name>}) into flags and attributes, and writes them back the CVAT way (round trip)', async () => {
    const coco = {
      images: [{ id: 1, file_name: 'a.jpg', width: W, height: H, tags: ['night', 'rain'] }, { id: 2, file_name: 'b.jpg', width: W, height: H }],
      categories: [{ id: 1, name: 'car' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 4, 3], area: 12, iscrowd: 0, segmentation: [],
          attributes: { occluded: true, rotation: 0.0, color: 'red', parked: false, doors: 4 } },
        { id: 2, image_id: 1, category_id: 1, bbox: [2, 2, 4, 3], area: 12, iscrowd: 1, segmentation: [], attributes: { occluded: false, rotation: 15 } },
        { id: 3, image_id: 2, category_id: 1, bbox: [3, 3, 4, 3], area: 12, iscrowd: 0, segmentation: [], attributes: { occluded: false, rotation: 0 } },
      ],
    };
    const ds = await importCoco(await writeDataset(coco, ['a.jpg', 'b.jpg']));
    expect(ds.issues).toEqual([]);
    expect(ds.images.map((i) => i.tags)).toEqual([['night', 'rain'], undefined]);
    expect(ds.annotations.map((a) => [a.iscrowd, a.flags, a.attributes])).toEqual([
      [undefined, { occluded: true }, { color: 'red', parked: false, doors: 4 }],
      [true, undefined, { rotation: 15 }],
      [undefined, undefined, undefined],
    ]);
    await exportCoco(ds, path.join(dir, 'out'), { images: 'none' });
    const back = JSON.parse(await readFile(path.join(dir, 'out', 'annotations', 'instances_train.json'), 'utf8'));
    expect(back.annotations.map((a: { iscrowd: number; attributes: unknown }) => [a.iscrowd, a.attributes])).toEqual([
      [0, { occluded: true, color: 'red', parked: false, doors: 4 }],
      [1, { occluded: false, rotation: 15 }],
      [0, { occluded: false }],
    ]);
    expect(back.images[0].tags).toEqual(['night', 'rain']);
    const again = await importCoco(path.join(dir, 'out'));
    expect(again.annotations.map((a) => [a.iscrowd, a.flags, a.attributes])).toEqual(ds.annotations.map((a) => [a.iscrowd, a.flags, a.attributes]));
    expect(again.images.map((i) => i.tags)).toEqual(ds.images.map((i) => i.tags));
  });

  it('an attribute that is not a scalar is a warning naming it, and the rest is kept', async () => {
    const coco = {
      images: [{ id: 1, file_name: 'a.jpg', width: W, height: H }],
      categories: [{ id: 1, name: 'car' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 4, 3], iscrowd: 0, attributes: { pts: [1, 2], color: 'red' } }],
    };
    const ds = await importCoco(await writeDataset(coco, ['a.jpg']));
    expect(ds.issues).toEqual([expect.objectContaining({ level: 'warning', record: 'annotations[0] (id 1) attributes.pts', message: expect.stringMatching(/not kept: the value is not a boolean/) })]);
    expect(ds.annotations[0].attributes).toEqual({ color: 'red' });
  });
});

