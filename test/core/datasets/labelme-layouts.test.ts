// LabelMe files as labelme saves them: the image embedded as imageData, `__ignore__` shapes, circles, and
// imagePaths from another computer (our own small fixtures).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { circlePolygon, importLabelme } from '../../../src-main/core/datasets/labelme-import';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('hst-lml-')));
afterEach(async () => cleanup());

const lm = (imagePath: string, shapes: object[], imageData: string | null = null, w = 10, h = 8) =>
  JSON.stringify({ version: '5.4.1', flags: { blurry: false }, shapes, imagePath, imageData, imageHeight: h, imageWidth: w });

describe('LabelMe as labelme saves it', () => {
  it('an image only embedded as imageData is imported from those bytes', async () => {
    await writeImage(path.join(dir, 'tmp/only-inside.jpg'), 10, 8);
    const b64 = (await readFile(path.join(dir, 'tmp/only-inside.jpg'))).toString('base64');
    await writeText(path.join(dir, 'ann/only-inside.json'), lm('only-inside.jpg', [{ label: 'a', points: [[1, 1], [4, 4]], shape_type: 'rectangle' }], b64));
    const ds = await importLabelme(path.join(dir, 'ann'));
    expect(ds.images).toHaveLength(1);
    expect(ds.images[0].absPath).toBeNull();
    expect(ds.images[0].data?.equals(Buffer.from(b64, 'base64'))).toBe(true);
    expect(ds.images[0]).toMatchObject({ width: 10, height: 8 });
    expect(ds.annotations).toHaveLength(1);
    expect(ds.issues.map((i) => i.message)).toEqual(["1 image(s) not found as files were taken from the JSON's embedded imageData"]);
  });

  it("drops '__ignore__' shapes as labelme2coco does, and says so", async () => {
    await writeImage(path.join(dir, 'a.jpg'), 10, 8);
    await writeText(path.join(dir, 'a.json'), lm('a.jpg', [
      { label: '__ignore__', points: [[0, 0], [3, 0], [3, 3]], shape_type: 'polygon' },
      { label: 'leaf', points: [[1, 1], [5, 1], [5, 5]], shape_type: 'polygon' },
    ]));
    const ds = await importLabelme(dir);
    expect(ds.classes.map((c) => c.name)).toEqual(['leaf']);
    expect(ds.annotations).toHaveLength(1);
    expect(ds.issues.map((i) => i.message)).toEqual(["1 '__ignore__' shape(s) dropped, as labelme2coco does"]);
  });

  it('circles become polygons with the point count labelme2coco uses', async () => {
    // r = 100: π / acos(1 - 1/100) = 22.2 → 22 points; small circles get at least 12
    const big = circlePolygon([200, 150], [200, 250]);
    expect(big).toHaveLength(44);
    expect(big.slice(0, 2)).toEqual([200, 250]); // i = 0: (cx + r·sin 0, cy + r·cos 0)
    for (let i = 0; i < big.length; i += 2) expect(Math.hypot(big[i] - 200, big[i + 1] - 150)).toBeCloseTo(100, 9);
    expect(circlePolygon([5, 5], [5, 8])).toHaveLength(24);
    expect(circlePolygon([5, 5], [5.2, 5])).toHaveLength(24); // r < 0.5: acos is undefined, 12 points

    await writeImage(path.join(dir, 'c.jpg'), 10, 8);
    await writeText(path.join(dir, 'c.json'), lm('c.jpg', [{ label: 'coin', points: [[5, 4], [5, 7]], shape_type: 'circle' }]));
    const ds = await importLabelme(dir);
    expect(ds.issues).toEqual([]);
    expect(ds.annotations[0].geometry).toEqual({ kind: 'polygon', rings: [circlePolygon([5, 4], [5, 7])] });
  });

  it('an absolute imagePath from another computer is looked for beside the JSON, with one note', async () => {
    await writeImage(path.join(dir, 'p/x.jpg'), 10, 8);
    await writeText(path.join(dir, 'p/x.json'), lm('C:\\Users\\ann\\Desktop\\x.jpg', [{ label: 'a', points: [[1, 1], [4, 4]], shape_type: 'rectangle' }]));
    const ds = await importLabelme(dir);
    expect(ds.images.map((i) => i.fileName)).toEqual(['p/x.jpg']);
    expect(ds.issues.map((i) => i.message)).toEqual(['1 imagePath(s) are absolute paths from another computer; the images were looked for beside their JSON']);
  });
});
