import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PIXELS, probeBuffer, probeFile, RejectedImage } from '../../../src-main/core/ingest/probe';
import { makeImage, tempDir } from '../store/helpers';

let t: ReturnType<typeof tempDir>;
beforeAll(() => (t = tempDir('hst-probe-')));
afterAll(() => t.cleanup());

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A PNG whose (valid, CRC-checked) header claims width×height; the pixel data is a few bytes. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}

const reason = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RejectedImage);
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
};

describe('probe', () => {
  it('reads a good JPEG: hash, format, size, thumbnail no larger than 256 px', async () => {
    const buf = await makeImage(600, 300, 1);
    const p = await probeBuffer(buf);
    expect(p).toMatchObject({ format: 'jpeg', ext: 'jpg', width: 600, height: 300, orientation: 1, bytes: buf.length });
    expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
    const tm = await sharp(p.thumb).metadata();
    expect([tm.format, tm.width, tm.height]).toEqual(['webp', 256, 128]);
  });

  it('reports dimensions after EXIF orientation (6 = rotated 90°)', async () => {
    const p = await probeBuffer(await makeImage(120, 80, 2, 'jpeg', 6));
    expect([p.orientation, p.width, p.height, p.rawWidth, p.rawHeight]).toEqual([6, 80, 120, 120, 80]);
    const tm = await sharp(p.thumb).metadata();
    expect([tm.width, tm.height]).toEqual([80, 120]);
  });

  it('rejects a truncated JPEG and a truncated PNG (even when a thumbnail shrinks on load)', async () => {
    const jpg = await makeImage(2000, 1200, 3);
    expect(await reason(probeBuffer(jpg.subarray(0, Math.floor(jpg.length * 0.7))))).toMatch(/truncated or damaged/);
    const png = await makeImage(300, 200, 4, 'png');
    expect(await reason(probeBuffer(png.subarray(0, Math.floor(png.length * 0.5))))).toMatch(/truncated|could not be decoded/);
  });

  it('rejects a text file named .png, and an empty file', async () => {
    const f = join(t.dir, 'notes.png');
    writeFileSync(f, 'hello, I am not an image\n');
    expect(await reason(probeFile(f))).toMatch(/not an image/);
    const e = join(t.dir, 'empty.jpg');
    writeFileSync(e, '');
    expect(await reason(probeFile(e))).toBe('the file is empty');
  });

  it('rejects a 30000×30000 PNG header before decoding it, stating the bound', async () => {
    const bomb = pngHeader(30000, 30000);
    expect(bomb.length).toBeLessThan(100);
    const t0 = Date.now();
    const msg = await reason(probeBuffer(bomb));
    expect(msg).toBe('the image is 30000×30000 = 900,000,000 pixels, above the limit of 268,435,456 (16384×16384); it was not decoded');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(MAX_PIXELS).toBe(16384 * 16384);
    // just under the bound passes the header check and then fails on the (missing) pixel data instead
    expect(await reason(probeBuffer(pngHeader(16384, 16384)))).not.toMatch(/above the limit/);
  });

  it('rejects formats we do not label (SVG)', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect(await reason(probeBuffer(svg))).toMatch(/unsupported image format 'svg'/);
  });
});
