// Shared by the exporters: the report type, placing image files into the output layout, unique names.
import { copyFile, link, mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '../../contract/schemas';
import type { Dataset, DatasetImage } from './types';
import { safeRelativeName } from './safe-path';

export interface ExportReport {
  /** Files written, relative to the output folder. */
  files: string[];
  /** What was changed to fit the format ("12 RLE masks converted to polygons (YOLO has no RLE)"). */
  converted: string[];
  /** What the format cannot hold and was left out. */
  dropped: string[];
}

export interface ExportOptions {
  /** Only these splits (images without a split count as train). */
  splits?: Split[];
  /** How image files get into the output: copied (default), hard-linked (falls back to copy), symlinked, or not at all. */
  images?: 'copy' | 'link' | 'symlink' | 'none';
}

export function selectSplits(ds: Dataset, splits?: Split[]): Dataset {
  if (!splits || splits.length === 0) return ds;
  const keep = new Set(splits);
  const images = ds.images.filter((i) => keep.has(i.split ?? 'train'));
  const keys = new Set(images.map((i) => i.key));
  return { ...ds, images, annotations: ds.annotations.filter((a) => keys.has(a.imageKey)) };
}

/** Put an image file at `dst` (creating folders). Returns false if there is no source file. */
export async function placeImage(img: DatasetImage, dst: string, mode: ExportOptions['images'] = 'copy'): Promise<boolean> {
  if (mode === 'none') return true;
  if (!img.absPath) return false;
  await mkdir(path.dirname(dst), { recursive: true });
  if (mode === 'symlink') {
    await symlink(img.absPath, dst);
    return true;
  }
  if (mode === 'link') {
    try {
      await link(img.absPath, dst);
      return true;
    } catch {
      // different device or no hard links: copy instead
    }
  }
  await copyFile(img.absPath, dst);
  return true;
}

/** Hands out names that are unique case-insensitively (exports must work on case-insensitive file systems). */
export class UniqueNames {
  private used = new Set<string>();
  take(wanted: string): string {
    const ext = path.posix.extname(wanted);
    const stem = wanted.slice(0, wanted.length - ext.length);
    let name = wanted;
    for (let n = 2; this.used.has(name.toLowerCase()); n++) name = `${stem}_${n}${ext}`;
    this.used.add(name.toLowerCase());
    return name;
  }
}

/** The image's own relative name if it is safe to reuse below an output folder, else its base name. */
export function outputName(img: DatasetImage, flatten: boolean): string {
  const safe = safeRelativeName(img.fileName);
  if (safe && !flatten) return safe;
  const base = path.posix.basename(img.fileName.replace(/\\/g, '/'));
  return safeRelativeName(base) ?? `image_${img.key.replace(/[^A-Za-z0-9_-]/g, '_')}.jpg`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
