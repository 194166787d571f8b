import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importLabelme } from '../../../src-main/core/datasets/labelme-import';
import { decodeMask } from '../../../src-main/core/geometry/rle';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function maskPng(w: number, h: number, on: [number, number][]) {
  const px = Buffer.alloc(w * h);
  for (const [x, y] of on) px[y * w + x] = 255;
  return (await sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer()).toString('base64');
}

const lm = (imagePath: string, shapes: object[], w = 10, h = 8) =>
  JSON.stringify({ version: '5.4.1', flags: {}, shapes, imagePath, imageData: null, imageHeight: h, imageWidth: w });

describe('LabelMe import', () => {
  it('reads rectangles, polygons, masks, groups; relative image paths with unicode and spaces', async () => {
    await writeImage(path.join(dir, 'imgs', 'ünï one.jpg'), 10, 8);
    const mask = await maskPng(3, 2, [[0, 0], [2, 1]]);
    await writeText(path.join(dir, 'ann', 'a.json'), lm('../imgs/ünï one.jpg', [
      { label: 'car', points: [[6, 5], [1, 2]], shape_type: 'rectangle', group_id: null, flags: {} },
      { label: 'tree', points: [[0, 0], [4, 0], [4, 4]], shape_type: 'polygon', group_id: 1 },
      { label: 'tree', points: [[6, 6], [9, 6], [9, 7]], shape_type: 'polygon', group_id: 1 },
      { label: 'blob', points: [[5, 3], [7, 4]], shape_type: 'mask', mask },
      { label: 'x', points: [[1, 1]], shape_type: 'point' },
      { label: 'x', points: [[1, 1], [2, 2]], shape_type: 'circle' },
    ]));
    const ds = await importLabelme(dir);
    expect(ds.images).toEqual([{ key: 'imgs/ünï one.jpg', fileName: 'imgs/ünï one.jpg', absPath: path.join(dir, 'imgs', 'ünï one.jpg'), width: 10, height: 8 }]);
    expect(ds.classes.map((c) => c.name)).toEqual(['car', 'tree', 'blob', 'x']);
    const [box, tree, blob] = ds.annotations;
    expect(box.geometry).toEqual({ kind: 'box', x: 1, y: 2, w: 5, h: 3 });
    expect(tree.geometry).toEqual({ kind: 'polygon', rings: [[0, 0, 4, 0, 4, 4], [6, 6, 9, 6, 9, 7]] });
    expect(blob.geometry.kind).toBe('mask');
    if (blob.geometry.kind === 'mask') {
      const m = decodeMask(blob.geometry.rle);
      expect([...m.keys()].filter((i) => m[i]).map((i) => [i % 10, Math.floor(i / 10)])).toEqual([[5, 3], [7, 4]]);
    }
    expect(ds.annotations).toHaveLength(4); // the circle became a polygon (labelme-layouts.test.ts)
    expect(ds.annotations[3].geometry.kind).toBe('polygon');
    expect(ds.issues.map((i) => i.message)).toEqual([
      "1 'point' shape(s) skipped (only rectangle, polygon, circle and mask are imported)",
    ]);
  });

  it('bad shapes, traversal and broken JSON are errors naming file and record', async () => {
    await writeImage(path.join(dir, 'a.jpg'), 10, 8);
    await writeText(path.join(dir, 'a.json'), lm('a.jpg', [
      { label: 'p', points: [[0, 0], [1, 1]], shape_type: 'polygon' },
      { label: 'q', points: [[0, 'x']], shape_type: 'polygon' },
    ]));
    await writeText(path.join(dir, 'b.json'), lm('../../etc/passwd', []));
    await writeText(path.join(dir, 'c.json'), '{"shapes": [');
    const ds = await importLabelme(dir);
    expect(ds.issues).toEqual([
      { level: 'error', file: 'a.json', record: 'shapes[0] (p)', message: 'polygon has 2 points; at least 3 are needed' },
      { level: 'error', file: 'a.json', record: 'shapes[1]', message: expect.stringMatching(/field 'points\[0\]\[1\]'/) },
      { level: 'error', file: 'b.json', record: 'imagePath', message: expect.stringMatching(/path traversal/) },
      { level: 'error', file: 'c.json', record: undefined, message: expect.stringMatching(/JSON is truncated at line 1/) },
    ]);
  });
});

describe('LabelMe export', () => {
  it('round-trips boxes, multi-ring polygons and masks (bit-exact)', async () => {
    const { exportLabelme } = await import('../../../src-main/core/datasets/labelme-export');
    const { encodeMask } = await import('../../../src-main/core/geometry/rle');
    await writeImage(path.join(dir, 'src', 'ünï a.jpg'), 10, 8);
    const m = new Uint8Array(80);
    for (const [x, y] of [[2, 2], [3, 2], [3, 3], [7, 6]]) m[y * 10 + x] = 1;
    const mask = encodeMask(m, 8, 10);
    const ds = {
      images: [{ key: '1', fileName: 'ünï a.jpg', absPath: path.join(dir, 'src', 'ünï a.jpg'), width: 10, height: 8 }],
      classes: [{ name: 'car' }, { name: 'tree' }],
      annotations: [
        { imageKey: '1', className: 'car', geometry: { kind: 'box' as const, x: 1, y: 2, w: 5, h: 3 } },
        { imageKey: '1', className: 'tree', geometry: { kind: 'polygon' as const, rings: [[0, 0, 4, 0, 4, 4], [6, 6, 9, 6, 9, 7]] } },
        { imageKey: '1', className: 'car', geometry: { kind: 'mask' as const, rle: mask }, score: 0.5 },
      ],
      issues: [],
    };
    const report = await exportLabelme(ds, path.join(dir, 'out'));
    expect(report.files).toEqual(['ünï a.jpg', 'ünï a.json']);
    expect(report.converted).toEqual(['1 multi-part polygon written as polygon shapes sharing a group_id']);
    expect(report.dropped).toEqual(['scores of 1 annotation']);
    const back = await importLabelme(path.join(dir, 'out'));
    expect(back.issues).toEqual([]);
    expect(back.images[0]).toMatchObject({ fileName: 'ünï a.jpg', width: 10, height: 8 });
    expect(back.annotations.map((a) => [a.className, a.geometry])).toEqual(ds.annotations.map((a) => [a.className, a.geometry]));
    expect(decodeMask(mask)).toEqual(m);
  });
});

describe('LabelMe flags', () => {
  it('image flags that are set become tags; shape flags become flags (occluded/truncated/difficult/crowd) or attributes; both written back (round trip)', async () => {
    await writeImage(path.join(dir, 'src', 'a.jpg'), 10, 8);
    await writeText(path.join(dir, 'src', 'a.json'), JSON.stringify({
      version: '5.4.1', flags: { cat: true, dog: false, ' blurry ': true }, imagePath: 'a.jpg', imageData: null, imageHeight: 8, imageWidth: 10,
      shapes: [
        { label: 'car', points: [[1, 1], [5, 4]], shape_type: 'rectangle', group_id: null, flags: { occluded: true, truncated: false, parked: true, crowd: true } },
        { label: 'car', points: [[2, 2], [6, 5]], shape_type: 'rectangle', group_id: null, flags: {}, attributes: { color: 'red', doors: 4 } },
        { label: 'car', points: [[3, 3], [7, 6]], shape_type: 'rectangle', group_id: null, flags: null },
      ],
    }));
    const ds = await importLabelme(path.join(dir, 'src'));
    expect(ds.issues).toEqual([]);
    expect(ds.images[0].tags).toEqual(['cat', 'blurry']);
    expect(ds.annotations.map((a) => [a.iscrowd, a.flags, a.attributes])).toEqual([
      [true, { occluded: true }, { parked: true }],
      [undefined, undefined, { color: 'red', doors: 4 }],
      [undefined, undefined, undefined],
    ]);
    const { exportLabelme } = await import('../../../src-main/core/datasets/labelme-export');
    const report = await exportLabelme(ds, path.join(dir, 'out'), { images: 'none' });
    expect(report.dropped).toEqual([]);
    const { readFile } = await import('node:fs/promises');
    const json = JSON.parse(await readFile(path.join(dir, 'out', 'a.json'), 'utf8'));
    expect(json.flags).toEqual({ cat: true, blurry: true });
    expect(json.shapes[0].flags).toEqual({ occluded: true, crowd: true, parked: true });
    await writeImage(path.join(dir, 'out', 'a.jpg'), 10, 8);
    const back = await importLabelme(path.join(dir, 'out'));
    expect(back.images[0].tags).toEqual(ds.images[0].tags);
    expect(back.annotations.map((a) => [a.iscrowd, a.flags, a.attributes])).toEqual(ds.annotations.map((a) => [a.iscrowd, a.flags, a.attributes]));
  });
});

