// YOLO as the tools really write it: Roboflow's data.yaml with ../ paths, CVAT's YOLO 1.1 (Darknet) export,
// labelImg's flat folder with classes.txt, Ultralytics pose (kpt_shape) and OBB labels. Fixtures are ours,
// written in those tools' layouts.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importYolo, parseLabelLine, splitFromPath } from '../../../src-main/core/datasets/yolo-import';
import { detectFormat } from '../../../src-main/core/datasets/detect-format';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('hst-yl-')));
afterEach(async () => cleanup());

/** Roboflow "YOLOv8" export: data.yaml at the top, train/ valid/ test/ each with images/ and labels/. */
async function roboflow(root: string) {
  await writeText(
    path.join(root, 'data.yaml'),
    "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\nnames: ['cat', 'dog']\n\nroboflow:\n  workspace: me\n  project: pets\n  version: 3\n  license: CC BY 4.0\n  url: https://example.invalid/pets/3\n",
  );
  await writeText(path.join(root, 'README.roboflow.txt'), 'exported\n');
  for (const [split, n] of [['train', 3], ['valid', 2], ['test', 1]] as const) {
    for (let i = 0; i < n; i++) {
      await writeImage(path.join(root, split, 'images', `${split}_${i}_jpg.rf.abc${i}.jpg`), 40, 20);
      await writeText(path.join(root, split, 'labels', `${split}_${i}_jpg.rf.abc${i}.txt`), `${i % 2} 0.5 0.5 0.25 0.5\n`);
    }
  }
}

describe('Roboflow data.yaml', () => {
  it('resolves ../train/images inside the dataset folder, as Ultralytics does, with the splits', async () => {
    await roboflow(dir);
    expect(await detectFormat(dir)).toBe('yolo');
    const ds = await importYolo(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.classes.map((c) => c.name)).toEqual(['cat', 'dog']);
    const bySplit = (s: string) => ds.images.filter((i) => i.split === s).length;
    expect([bySplit('train'), bySplit('val'), bySplit('test')]).toEqual([3, 2, 1]);
    expect(ds.annotations).toHaveLength(6);
    expect(ds.annotations[0].geometry).toEqual({ kind: 'box', x: 15, y: 5, w: 10, h: 10 });
    // the yaml file itself works as well
    expect((await importYolo(path.join(dir, 'data.yaml'))).images).toHaveLength(6);
  });

  it('never uses a same-named folder outside the chosen one, and refuses paths that really escape', async () => {
    const ds = path.join(dir, 'pets');
    await roboflow(ds);
    // a sibling "train/images" next to the dataset must not be picked up by ../train/images
    await writeImage(path.join(dir, 'train/images/stranger.jpg'), 40, 20);
    const got = await importYolo(ds);
    expect(got.images.map((i) => i.fileName).filter((f) => f.includes('stranger'))).toEqual([]);
    expect(got.images.filter((i) => i.split === 'train')).toHaveLength(3);

    await writeText(path.join(ds, 'data.yaml'), 'train: ../secret/images\nval: ../../../../etc\nnames: [cat, dog]\n');
    await writeImage(path.join(dir, 'secret/images/s.jpg'), 8, 8); // exists, but outside the chosen folder
    const bad = await importYolo(ds);
    expect(bad.images).toEqual([]);
    expect(bad.issues.map((i) => [i.level, i.record, /path traversal/.test(i.message)])).toEqual([
      ['error', 'train', true],
      ['error', 'val', true],
    ]);
  });
});

describe('CVAT YOLO 1.1 / Darknet', () => {
  async function cvatYolo(root: string) {
    await writeText(path.join(root, 'obj.data'), 'classes = 2\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n');
    await writeText(path.join(root, 'obj.names'), 'person\ncar\n');
    await writeText(path.join(root, 'train.txt'), 'data/obj_train_data/frame_000000.jpg\ndata/obj_train_data/frame_000001.jpg\n');
    await writeImage(path.join(root, 'obj_train_data/frame_000000.jpg'), 30, 30);
    await writeImage(path.join(root, 'obj_train_data/frame_000001.jpg'), 30, 30);
    await writeText(path.join(root, 'obj_train_data/frame_000000.txt'), '1 0.5 0.5 0.2 0.2\n0 0.2 0.2 0.1 0.1\n');
    await writeText(path.join(root, 'obj_train_data/frame_000001.txt'), '');
  }

  it('reads obj.data, obj.names, train.txt with data/ prefixes and labels beside the images', async () => {
    await cvatYolo(dir);
    expect(await detectFormat(dir)).toBe('yolo');
    const ds = await importYolo(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.classes.map((c) => c.name)).toEqual(['person', 'car']);
    expect(ds.images.map((i) => [i.fileName, i.split])).toEqual([
      ['obj_train_data/frame_000000.jpg', 'train'],
      ['obj_train_data/frame_000001.jpg', 'train'],
    ]);
    expect(ds.annotations.map((a) => a.className)).toEqual(['car', 'person']);
    // obj.data given as the file
    expect((await importYolo(path.join(dir, 'obj.data'))).annotations).toHaveLength(2);
  });

  it('without obj.data: obj.names or classes.txt name the classes of labels beside the images (labelImg)', async () => {
    await writeText(path.join(dir, 'classes.txt'), 'apple\npear\n');
    await writeImage(path.join(dir, 'IMG_1.jpg'), 10, 10);
    await writeImage(path.join(dir, 'IMG_2.png'), 10, 10);
    await writeText(path.join(dir, 'IMG_1.txt'), '1 0.5 0.5 0.2 0.4\n');
    expect(await detectFormat(dir)).toBe('yolo');
    const ds = await importYolo(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.classes.map((c) => c.name)).toEqual(['apple', 'pear']);
    expect(ds.images.map((i) => i.fileName)).toEqual(['IMG_1.jpg', 'IMG_2.png']);
    expect(ds.annotations.map((a) => [a.imageKey, a.className])).toEqual([['IMG_1.jpg', 'pear']]);
  });

  it('takes the split from obj_<subset>_data folders when there is no list', async () => {
    expect(splitFromPath('obj_train_data/a.jpg')).toBe('train');
    expect(splitFromPath('obj_Validation_data/a.jpg')).toBe('val');
    expect(splitFromPath('valid/images/a.jpg')).toBe('val');
    expect(splitFromPath('photos/a.jpg')).toBeUndefined();
  });
});

describe('pose and OBB labels', () => {
  it('kpt_shape [n,2] and [n,3]: the boxes are kept and the dropped keypoints are said once', async () => {
    for (const dims of [2, 3]) {
      const root = path.join(dir, `pose${dims}`);
      const kp = Array.from({ length: 3 * dims }, (_, i) => (0.3 + 0.01 * i).toFixed(2)).join(' ');
      await writeText(path.join(root, 'data.yaml'), `train: images/train\nkpt_shape: [3, ${dims}]\nnames: {0: person}\n`);
      await writeImage(path.join(root, 'images/train/a.jpg'), 100, 50);
      await writeText(path.join(root, 'labels/train/a.txt'), `0 0.5 0.5 0.2 0.4 ${kp}\n0 0.2 0.2 0.1 0.1 ${kp}\n`);
      const ds = await importYolo(root);
      const r6 = (g: object) => JSON.parse(JSON.stringify(g, (_k, v) => (typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v)));
      expect(ds.annotations.map((a) => r6(a.geometry))).toEqual([
        { kind: 'box', x: 40, y: 15, w: 20, h: 20 },
        { kind: 'box', x: 15, y: 7.5, w: 10, h: 5 },
      ]);
      expect(ds.issues).toEqual([
        expect.objectContaining({ level: 'warning', record: 'kpt_shape', message: expect.stringMatching(`^2 pose label\\(s\\) with 3 keypoints \\(${dims} values each\\): their boxes were imported, the keypoints were dropped`) }),
      ]);
    }
    // a pose line whose length does not fit kpt_shape says what was expected
    expect(parseLabelLine('0 0.5 0.5 0.2 0.2 0.1 0.1 0.1', 10, 10, [3, 3])).toEqual({ error: expect.stringMatching(/a pose line 13 \(box \+ kpt_shape 3×3\)/) });
  });

  it('OBB: 4 corner points become 4-point polygons, and it is said', async () => {
    await writeText(path.join(dir, 'data.yaml'), 'train: images/train\nnames: [plane]\n');
    await writeImage(path.join(dir, 'images/train/a.png'), 100, 100);
    await writeText(path.join(dir, 'labels/train/a.txt'), '0 0.1 0.1 0.5 0.1 0.5 0.3 0.1 0.3\n');
    const ds = await importYolo(dir);
    expect(ds.annotations[0].geometry).toEqual({ kind: 'polygon', rings: [[10, 10, 50, 10, 50, 30, 10, 30]] });
    expect(ds.issues).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/4 corner points \(YOLO OBB oriented boxes\): imported as 4-point polygons/) })]);
  });
});
