// Writing content-addressed media and cached thumbnails. Writes go to a temp name and are renamed into place,
// so a crash never leaves a half-written file under its final (hash) name.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mediaRelPath, thumbRelPath } from '../paths';

export async function writeAtomic(file: string, data: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface PlacedMedia {
  /** stored in images.path: relative to the project (copy) or absolute (link) */
  path: string;
  linked: boolean;
  /** absolute path of a file this call created (to remove if the surrounding import fails), else null */
  created: string | null;
}

export async function placeMedia(projectDir: string, source: string, data: Buffer, hash: string, ext: string, mode: 'copy' | 'link'): Promise<PlacedMedia> {
  if (mode === 'link') return { path: source, linked: true, created: null };
  const rel = mediaRelPath(hash, ext);
  const abs = join(projectDir, rel);
  if (existsSync(abs)) return { path: rel, linked: false, created: null };
  await writeAtomic(abs, data);
  return { path: rel, linked: false, created: abs };
}

export async function writeThumb(projectDir: string, hash: string, size: number, data: Buffer): Promise<string> {
  const abs = join(projectDir, thumbRelPath(hash, size));
  await writeAtomic(abs, data);
  return abs;
}
