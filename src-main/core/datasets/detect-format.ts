// Guess a dataset's format from what is on disk, for `import` without --format and for the UI's import dialog.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { exists, isImageName } from './image-files';
import type { DatasetFormat } from './types';

export async function detectFormat(p: string): Promise<DatasetFormat | null> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) return null;
  if (st.isFile()) {
    const lower = abs.toLowerCase();
    if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yolo';
    if (isImageName(abs)) return 'images';
    if (lower.endsWith('.json')) return jsonKind(abs);
    return null;
  }
  for (const n of ['data.yaml', 'data.yml', 'dataset.yaml']) if (await exists(path.join(abs, n))) return 'yolo';
  if (await exists(path.join(abs, 'Annotations'))) return 'voc';
  const entries = await readdir(abs);
  if (entries.some((e) => e.toLowerCase().endsWith('.xml'))) return 'voc';
  const jsons = entries.filter((e) => e.toLowerCase().endsWith('.json'));
  for (const j of jsons.slice(0, 3)) {
    const k = await jsonKind(path.join(abs, j));
    if (k) return k === 'coco' && jsons.length > 1 ? null : k; // a folder with several COCO files is ambiguous
  }
  if ((await exists(path.join(abs, 'images'))) && (await exists(path.join(abs, 'labels')))) return 'yolo';
  return 'images';
}

async function jsonKind(file: string): Promise<DatasetFormat | null> {
  try {
    // only the start is needed to tell the formats apart, but JSON must be parsed whole; files here are small
    // enough in practice (a huge COCO file is recognised by its keys before the parse fails)
    const text = await readFile(file, 'utf8');
    const head = text.slice(0, 4096);
    if (/"shapes"\s*:/.test(head) && /"imagePath"\s*:/.test(text)) return 'labelme';
    if (/"images"\s*:/.test(text) && (/"annotations"\s*:/.test(text) || /"categories"\s*:/.test(text))) return 'coco';
  } catch {
    return null;
  }
  return null;
}
