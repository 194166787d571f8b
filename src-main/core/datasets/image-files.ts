// Finding image files in dataset folders and reading their displayed size (after EXIF orientation).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif', '.avif']);

export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** Image files below `dir`, recursively, sorted by relative path (stable keys for tests and exports). */
export async function listImageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string) {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((e.isFile() || e.isSymbolicLink()) && isImageName(e.name)) out.push(p);
    }
  }
  await walk(dir);
  return out.sort();
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Width and height as displayed (EXIF orientations 5–8 swap them), or an error sentence. */
export async function imageSize(abs: string | Buffer): Promise<{ width: number; height: number } | { error: string }> {
  try {
    const m = await sharp(abs).metadata();
    if (!m.width || !m.height) return { error: 'image has no dimensions' };
    const swap = (m.orientation ?? 1) >= 5;
    return swap ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
  } catch (err) {
    return { error: `cannot read image (${err instanceof Error ? err.message : String(err)})` };
  }
}
