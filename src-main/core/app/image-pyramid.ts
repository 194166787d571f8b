// Downscaled levels of an image, so the editor paints a 24 MP photo from a ~1 MP level first and only
// fetches finer levels when the user zooms in. Levels are powers of two (256…8192 px longest side) so the
// cache holds a bounded set of variants per image; sharp's shrink-on-load makes the small levels cheap.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';

export interface MediaBytes {
  bytes: Buffer;
  type: string;
}

const BROWSER_SAFE: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };
export const MIN_LEVEL = 256;
/** The level the editor paints first (src-renderer/src/editor/image-levels.ts FIRST_LEVEL). */
export const FIRST_LEVEL = 1024;

/** The smallest power-of-two level ≥ `max`, or null when that is no smaller than the image itself. */
export function levelFor(max: number | undefined, width: number, height: number): number | null {
  const longest = Math.max(width, height);
  if (!max || !Number.isFinite(max) || max >= longest) return null;
  let level = MIN_LEVEL;
  while (level < max) level *= 2;
  return level >= longest ? null : level;
}

class ByteLru {
  private map = new Map<string, MediaBytes>();
  private size = 0;
  constructor(private capacity: number) {}
  get(k: string): MediaBytes | undefined {
    const v = this.map.get(k);
    if (v) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: MediaBytes): void {
    if (v.bytes.length > this.capacity / 4) return;
    this.map.set(k, v);
    this.size += v.bytes.length;
    for (const [key, old] of this.map) {
      if (this.size <= this.capacity) break;
      this.map.delete(key);
      this.size -= old.bytes.length;
    }
  }
  clear(): void {
    this.map.clear();
    this.size = 0;
  }
}

export class ImagePyramid {
  private cache = new ByteLru(256 * 1024 * 1024);
  private pending = new Map<string, Promise<MediaBytes>>();

  /** `absPath` comes from the store (already confined to the project); orientation is the EXIF value. */
  async level(key: string, absPath: string, width: number, height: number, orientation: number, max?: number): Promise<MediaBytes> {
    const level = levelFor(max, width, height);
    const cacheKey = `${key}@${level ?? 'full'}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    let p = this.pending.get(cacheKey);
    if (!p) {
      p = this.render(absPath, orientation, level).finally(() => this.pending.delete(cacheKey));
      this.pending.set(cacheKey, p);
    }
    const out = await p;
    this.cache.set(cacheKey, out);
    return out;
  }

  private async render(absPath: string, orientation: number, level: number | null): Promise<MediaBytes> {
    const type = BROWSER_SAFE[extname(absPath).toLowerCase()];
    if (level === null && type && orientation === 1) return { bytes: await readFile(absPath), type };
    // Bake the EXIF orientation in: stored geometry is in oriented pixels, whatever the browser would do.
    let img = sharp(absPath, { limitInputPixels: 1 << 30 }).rotate();
    if (level !== null) img = img.resize(level, level, { fit: 'inside', withoutEnlargement: true });
    if (level === null && type === 'image/png') return { bytes: await img.png().toBuffer(), type: 'image/png' };
    return { bytes: await img.jpeg({ quality: level === null ? 92 : 85, mozjpeg: false }).toBuffer(), type: 'image/jpeg' };
  }

  clear(): void {
    this.cache.clear();
  }
}
