// Shared fixtures for store tests: throwaway project folders and tiny images made on the fly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Annotation } from '../../../src-main/contract/schemas';
import { createProject, type SqliteProjectStore } from '../../../src-main/core/store/project';

export function tempDir(prefix = 'hst-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A project with `n` metadata-only images (no files), for changeset tests. */
export function projectWithImages(dir: string, n = 3): { store: SqliteProjectStore; imageIds: number[] } {
  const store = createProject(join(dir, 'p'), { name: 'test' });
  const imageIds: number[] = [];
  for (let i = 0; i < n; i++) {
    imageIds.push(store.insertImage({
      hash: `h${i}`.padEnd(64, '0'), path: `media/x/${i}.jpg`, linked: false, fileName: `img ${i}.jpg`, format: 'jpeg',
      bytes: 100, width: 640, height: 480, orientation: 1,
    }).id);
  }
  return { store, imageIds };
}

let seq = 0;
export function box(imageId: number, classId: number, x = 10, extra: Partial<Annotation> = {}): Annotation {
  seq++;
  return {
    id: `ann-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    imageId,
    classId,
    geometry: { kind: 'box', x, y: 20, w: 30.5, h: 40 },
    source: 'human',
    score: null,
    modelVersion: null,
    createdAt: 1000 + seq,
    updatedAt: 1000 + seq,
    ...extra,
  };
}

/** A small image whose pixels depend on `seed` (so hashes differ). */
export async function makeImage(width: number, height: number, seed: number, format: 'jpeg' | 'png' = 'jpeg', orientation?: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + seed * 97 + ((i * seed) % 13)) % 256;
  let img = sharp(raw, { raw: { width, height, channels: 3 } });
  img = format === 'jpeg' ? img.jpeg({ quality: 90 }) : img.png();
  if (orientation) img = img.withMetadata({ orientation });
  return img.toBuffer();
}
