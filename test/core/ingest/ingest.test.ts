import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestProgress } from '../../../src-main/core/store/types';
import { createProject, type SqliteProjectStore } from '../../../src-main/core/store/project';
import { makeImage, tempDir } from '../store/helpers';

let t: ReturnType<typeof tempDir>;
let store: SqliteProjectStore;
let src: string;

beforeEach(async () => {
  t = tempDir('hst-ingest-');
  store = createProject(join(t.dir, 'proj'));
  src = join(t.dir, 'photos été');
  mkdirSync(join(src, 'sub dir', 'deeper'), { recursive: true });
  writeFileSync(join(src, 'a cat.jpg'), await makeImage(64, 48, 1));
  writeFileSync(join(src, 'sub dir', 'ñandú 鳥.png'), await makeImage(40, 30, 2, 'png'));
  writeFileSync(join(src, 'sub dir', 'deeper', 'rotated.jpg'), await makeImage(60, 20, 3, 'jpeg', 8));
  writeFileSync(join(src, 'sub dir', 'copy of a cat.jpg'), await makeImage(64, 48, 1)); // same bytes as 'a cat.jpg'
  writeFileSync(join(src, 'readme.txt'), 'not an image');
  writeFileSync(join(src, 'fake.jpg'), 'not a jpeg either');
  writeFileSync(join(src, '.DS_Store'), 'junk');
});
afterEach(() => {
  store.close();
  t.cleanup();
});

describe('ingest', () => {
  it('imports a folder recursively, with unicode and spaces, skipping bad files and duplicates with reasons', async () => {
    const progress: IngestProgress[] = [];
    const r = await store.ingest([src], { onProgress: (p) => progress.push(p) });
    expect(r.cancelled).toBe(false);
    expect(r.added.map((i) => i.fileName).sort()).toEqual(['photos été/a cat.jpg', 'photos été/sub dir/deeper/rotated.jpg', 'photos été/sub dir/ñandú 鳥.png']);
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.path.slice(src.length + 1), s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['fake.jpg', 'readme.txt', 'sub dir/copy of a cat.jpg']);
    expect(reasons['readme.txt']).toMatch(/not an image file \(extension '.txt'\)/);
    expect(reasons['fake.jpg']).toMatch(/not an image/);
    expect(reasons['sub dir/copy of a cat.jpg']).toMatch(/^duplicate of image \d+ \(photos été\/a cat.jpg\)/);

    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toEqual({ done: 5, total: 5 });
    expect(progress[0]).toMatchObject({ done: 0, total: 5 });

    const rot = r.added.find((i) => i.fileName.endsWith('rotated.jpg'))!;
    expect([rot.width, rot.height, rot.orientation]).toEqual([20, 60, 8]);
    expect(rot.status).toBe('unlabeled');
    // copy mode: content-addressed under media/, inside the project
    const p = store.imagePath(rot.id);
    expect(p).toBe(join(store.dir, 'media', rot.hash.slice(0, 2), `${rot.hash}.jpg`));
    expect(existsSync(p)).toBe(true);
    expect(store.listImages().total).toBe(3);

    // thumbnails: the cached 256 one, and a new size made on demand and cached
    const th = await sharp(await store.thumbnail(rot.id)).metadata();
    expect([th.format, th.width, th.height]).toEqual(['webp', 20, 60]);
    const small = await sharp(await store.thumbnail(rot.id, 30)).metadata();
    expect([small.width, small.height]).toEqual([10, 30]);
    expect(existsSync(join(store.dir, 'cache', 'thumbs', '30', rot.hash.slice(0, 2), `${rot.hash}.webp`))).toBe(true);

    // importing again adds nothing
    const again = await store.ingest([src]);
    expect(again.added).toEqual([]);
    expect(again.skipped.filter((s) => s.reason.startsWith('duplicate')).length).toBe(4);
  });

  it('links files in place in link mode', async () => {
    const f = join(src, 'a cat.jpg');
    const r = await store.ingest([f], { mode: 'link' });
    expect(r.added).toHaveLength(1);
    expect(r.added[0].fileName).toBe('a cat.jpg');
    expect(store.imagePath(r.added[0].id)).toBe(f);
    expect(existsSync(join(store.dir, 'media', r.added[0].hash.slice(0, 2)))).toBe(false);
  });

  it('stops when cancelled, keeps what was imported, and says it was cancelled', async () => {
    const ac = new AbortController();
    const r = await store.ingest([src], {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.done === 1) ac.abort();
      },
    });
    expect(r.cancelled).toBe(true);
    expect(r.added.length + r.skipped.filter((s) => !s.reason.startsWith('not an image file')).length).toBeLessThan(5);
    expect(store.listImages().total).toBe(r.added.length);
  });

  it('reports a path that does not exist', async () => {
    const r = await store.ingest([join(t.dir, 'nope.jpg')]);
    expect(r.added).toEqual([]);
    expect(r.skipped[0].reason).toBe("no such file or folder"); // words, not the errno
  });
});
