import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZipWriter, zipFolder } from '../../../src-main/core/io/zip-writer';
import { readZip } from './read-zip';

const tmp = mkdtempSync(join(tmpdir(), 'hst-zip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('zip writer', () => {
  it('zips a folder (deflated text, stored images, nested folders, UTF-8 names) that reads back byte for byte', async () => {
    const dir = join(tmp, 'ds');
    mkdirSync(join(dir, 'images', 'val'), { recursive: true });
    const json = JSON.stringify({ images: Array.from({ length: 2000 }, (_, i) => ({ id: i, file_name: `img-${i}.jpg` })) });
    writeFileSync(join(dir, 'annotations.json'), json);
    const jpeg = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
    writeFileSync(join(dir, 'images', 'val', 'chat été.jpg'), jpeg);
    writeFileSync(join(dir, 'empty.txt'), '');
    const file = join(tmp, 'ds.zip');
    const progress: number[] = [];
    const r = await zipFolder(dir, file, { prefix: 'coco', onProgress: (d) => progress.push(d) });
    expect(r.files).toBe(3);
    expect(progress).toEqual([1, 2, 3]);
    expect(statSync(file).size).toBe(r.bytes);
    const back = readZip(file);
    expect([...back.keys()]).toEqual(['coco/annotations.json', 'coco/empty.txt', 'coco/images/val/chat été.jpg']);
    expect(back.get('coco/annotations.json')!.toString()).toBe(json);
    expect(back.get('coco/images/val/chat été.jpg')!.equals(jpeg)).toBe(true);
    expect(back.get('coco/empty.txt')!.length).toBe(0);
    expect(r.bytes).toBeLessThan(json.length / 3 + jpeg.length + 1000); // the JSON was deflated, the JPEG stored
    if (existsSync('/usr/bin/unzip')) execFileSync('/usr/bin/unzip', ['-tq', file]); // a second, independent reader
    else console.log('skipped the unzip -t cross-check: /usr/bin/unzip is missing');
  });

  it('refuses unsafe or duplicate names and stops on cancel', async () => {
    const zip = await ZipWriter.create(join(tmp, 'bad.zip'));
    await expect(zip.addBuffer('../evil', 'x')).rejects.toThrow(/not a safe relative path/);
    await expect(zip.addBuffer('/abs', 'x')).rejects.toThrow(/not a safe relative path/);
    await zip.addBuffer('a.txt', 'x');
    await expect(zip.addBuffer('a.txt', 'y')).rejects.toThrow(/added twice/);
    await zip.finish();
    expect(readZip(join(tmp, 'bad.zip')).get('a.txt')!.toString()).toBe('x');

    const dir = join(tmp, 'many');
    mkdirSync(dir);
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `${i}.txt`), 'hello '.repeat(1000));
    const ac = new AbortController();
    await expect(zipFolder(dir, join(tmp, 'c.zip'), { signal: ac.signal, onProgress: (d) => d === 2 && ac.abort() })).rejects.toThrow(/cancelled/);
    expect(readFileSync(join(tmp, 'c.zip')).length).toBeGreaterThan(0);
  });
});
