import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectFormat } from '../../../src-main/core/datasets/detect-format';
import { readDataset } from '../../../src-main/core/datasets/read-dataset';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('detectFormat / readDataset', () => {
  it('recognises each layout', async () => {
    await writeText(path.join(dir, 'y/data.yaml'), 'train: images/train\nnames: [a]\n');
    await writeText(path.join(dir, 'v/Annotations/x.xml'), '<annotation/>');
    await writeText(path.join(dir, 'c/instances.json'), '{"images": [], "annotations": [], "categories": []}');
    await writeText(path.join(dir, 'l/a.json'), '{"shapes": [], "imagePath": "a.jpg"}');
    await writeImage(path.join(dir, 'i/sub/p q.png'), 4, 4);
    expect(await detectFormat(path.join(dir, 'y'))).toBe('yolo');
    expect(await detectFormat(path.join(dir, 'v'))).toBe('voc');
    expect(await detectFormat(path.join(dir, 'c/instances.json'))).toBe('coco');
    expect(await detectFormat(path.join(dir, 'c'))).toBe('coco');
    expect(await detectFormat(path.join(dir, 'l'))).toBe('labelme');
    expect(await detectFormat(path.join(dir, 'i'))).toBe('images');
    await expect(detectFormat(path.join(dir, 'nope'))).rejects.toThrow(/nope: no such file or folder/);
  });

  it('reads a plain image folder and refuses unknown formats', async () => {
    await writeImage(path.join(dir, 'i/sub/p q.png'), 4, 4);
    const ds = await readDataset('images', path.join(dir, 'i'));
    expect(ds.images.map((i) => i.fileName)).toEqual(['sub/p q.png']);
    await expect(readDataset('tfrecord' as never, dir)).rejects.toThrow(/unknown dataset format 'tfrecord'/);
  });
});
