// A plain folder of images → neutral Dataset without labels (the 'images' import format).
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { isImageName, listImageFiles } from './image-files';
import type { Dataset } from './types';

export async function importImagesFolder(p: string): Promise<Dataset> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  const root = st.isDirectory() ? abs : path.dirname(abs);
  const files = st.isDirectory() ? await listImageFiles(abs) : isImageName(abs) ? [abs] : [];
  if (files.length === 0) throw new Error(`${p}: no image files found`);
  const images = files.map((f) => {
    const rel = path.relative(root, f).split(path.sep).join('/');
    return { key: rel, fileName: rel, absPath: f, width: 0, height: 0 };
  });
  return { images, classes: [], annotations: [], issues: [] };
}
