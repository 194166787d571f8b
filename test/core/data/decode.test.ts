import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError, orientedSize } from '../../../src-main/core/data/decode';
import { decodedPhotosKept } from '../../../src-main/core/data/decoded-photos';
import { createDataPipeline } from '../../../src-main/core/data/pipeline';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';

let dir: string;
let rotated: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hst-decode-'));
  // stored 40 wide × 20 tall: the top-left 20×10 block red, the rest blue
  const raw = new Uint8Array(40 * 20 * 3);
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 40; x++) {
      const red = x < 20 && y < 10;
      raw.set(red ? [230, 20, 20] : [20, 20, 230], (y * 40 + x) * 3);
    }
  }
  rotated = join(dir, 'rot6.jpg');
  // orientation 6: the viewer rotates 90° clockwise, so the picture shows 20 wide × 40 tall and the red block
  // lands at the top right (stored (x, y) → shown (19 − y, x))
  await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(rotated);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decodeImage', () => {
  it('applies EXIF orientation', async () => {
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    const d = await decodeImage(rotated);
    expect([d.width, d.height, d.origWidth, d.origHeight, d.data.length]).toEqual([20, 40, 20, 40, 20 * 40 * 3]);
    const px = (x: number, y: number) => Array.from(d.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
    expect(px(15, 5)[0]).toBeGreaterThan(180); // red, top right
    expect(px(4, 5)[2]).toBeGreaterThan(180); // blue, top left
  });

  it('orientedSize reads the oriented size from the header (the frame tiles are cut in)', async () => {
    expect(await orientedSize(rotated)).toEqual({ width: 20, height: 40 });
    const bad = join(dir, 'bad-header.png');
    writeFileSync(bad, 'not an image');
    await expect(orientedSize(bad, 'photos/x.png')).rejects.toThrow(/^image 'photos\/x\.png' could not be decoded: /);
  });

  it('downscales to fit, keeping the original size for annotations', async () => {
    const d = await decodeImage(rotated, { fitInside: { width: 10, height: 10 } });
    expect([d.width, d.height, d.origWidth, d.origHeight]).toEqual([5, 10, 20, 40]);
  });

  it('decodes a region of the oriented image (a tile): the region of the whole decode, in its own frame', async () => {
    const full = await decodeImage(rotated);
    const crop = { x: 12, y: 2, w: 8, h: 14 };
    const d = await decodeImage(rotated, { crop });
    expect([d.width, d.height, d.origWidth, d.origHeight]).toEqual([8, 14, 8, 14]);
    for (const [x, y] of [[0, 0], [7, 3], [3, 13]]) {
      const a = Array.from(d.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
      const b = Array.from(full.data.subarray(((y + crop.y) * 20 + x + crop.x) * 3, ((y + crop.y) * 20 + x + crop.x) * 3 + 3));
      a.forEach((v, c) => expect(Math.abs(v - b[c])).toBeLessThanOrEqual(3));
    }
    // the red block is in the oriented image's top right: (15, 5) there is (3, 3) in the region
    expect(d.data[(3 * 8 + 3) * 3]).toBeGreaterThan(180);
    const small = await decodeImage(rotated, { crop, fitInside: { width: 4, height: 7 } });
    expect([small.width, small.height, small.origWidth, small.origHeight]).toEqual([4, 7, 8, 14]);
    await expect(decodeImage(rotated, { crop: { x: 15, y: 0, w: 8, h: 8 } })).rejects.toThrow(/region 8×8 at \(15, 0\) is not inside the 20×40 image/);
  });

  it('cuts the tiles of one photo from one decode, and decodes it again once the file changes', async () => {
    const file = join(dir, 'tiles.png');
    const paint = (r: number) => sharp({ create: { width: 30, height: 20, channels: 3, background: { r, g: 10, b: 10 } } }).png().toFile(file);
    await paint(200);
    const before = decodedPhotosKept();
    const a = await decodeImage(file, { crop: { x: 0, y: 0, w: 10, h: 10 } });
    const b = await decodeImage(file, { crop: { x: 20, y: 10, w: 10, h: 10 } });
    expect(decodedPhotosKept()).toBe(Math.min(2, before + 1));
    expect([a.data[0], b.data[0]]).toEqual([200, 200]);
    // the same tile from the file itself (sharp's own extract) is the same bytes
    const direct = await sharp(file).rotate().extract({ left: 20, top: 10, width: 10, height: 10 }).removeAlpha().raw().toBuffer();
    expect(Buffer.from(b.data).equals(direct)).toBe(true);
    await new Promise((r) => setTimeout(r, 20)); // a new mtime
    await paint(90);
    expect((await decodeImage(file, { crop: { x: 0, y: 0, w: 10, h: 10 } })).data[0]).toBe(90);
  });

  it('gives 8-bit RGB for greyscale, RGBA and 16-bit files', async () => {
    const grey = join(dir, 'grey.png');
    await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 90, g: 90, b: 90 } } }).greyscale().png().toFile(grey);
    const rgba = join(dir, 'rgba.png');
    await sharp({ create: { width: 6, height: 4, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } }).png().toFile(rgba);
    const deep = join(dir, 'deep.png');
    await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 250, g: 5, b: 128 } } }).toColourspace('rgb16').png().toFile(deep);
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    for (const [file, want] of [
      [grey, [90, 90, 90]],
      [rgba, [10, 200, 30]],
      [deep, [250, 5, 128]],
    ] as const) {
      const d = await decodeImage(file);
      expect(d.data.length).toBe(6 * 4 * 3);
      const px = Array.from(d.data.subarray(3 * 9, 3 * 10));
      px.forEach((v, c) => expect(Math.abs(v - want[c])).toBeLessThanOrEqual(2));
    }
  });

  it('names the file and the reason when decoding fails', async () => {
    const bad = join(dir, 'bad.png');
    writeFileSync(bad, Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const err = await decodeImage(bad, { name: 'photos/bad.png' }).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err.file).toBe('photos/bad.png');
    expect(err.message).toMatch(/^image 'photos\/bad\.png' could not be decoded: \S/);
    await expect(decodeImage(join(dir, 'nope.jpg'))).rejects.toThrow(/could not be decoded/);
  });

  it('puts a box drawn on the oriented image over the right pixels of the sample', async () => {
    const p = createDataPipeline({
      dataset: {
        images: [{ key: 'r', fileName: 'rot6.jpg', absPath: rotated, width: 20, height: 40 }],
        classes: [{ name: 'red' }],
        annotations: [{ imageKey: 'r', className: 'red', geometry: { kind: 'box', x: 10, y: 0, w: 10, h: 20 }, sourceId: 1 }],
        issues: [],
      },
      classes: { names: ['red'] },
      size: 40,
      norm: VIT_AUGREG_NORM,
      seed: 0,
    });
    const s = await p.evalSample(0);
    expect(s.warnings).toEqual([]);
    expect(s.transform).toMatchObject({ origW: 20, origH: 40, scale: 1, padX: 10, padY: 0 });
    const b = Array.from(s.targets.boxes);
    expect(b).toEqual([20, 0, 30, 20]);
    const red = (x: number, y: number) => s.image[(y * 40 + x) * 3] > 0.4 && s.image[(y * 40 + x) * 3 + 2] < -0.4;
    expect(red(b[0] + 2, b[1] + 2) && red(b[2] - 3, b[3] - 3)).toBe(true);
    expect(red(b[0] - 3, b[1] + 2)).toBe(false);
    expect(red(b[0] + 2, b[3] + 3)).toBe(false);
  });
});
