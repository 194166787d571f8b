// Tiny datasets built on the fly in a temp folder.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export async function tempDir(prefix = 'hst-ds-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Write a small solid-colour image (format from the extension). */
export async function writeImage(file: string, width: number, height: number, opts: { orientation?: number } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  let img = sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } });
  const ext = path.extname(file).toLowerCase();
  if (ext === '.png') img = img.png();
  else img = img.jpeg();
  if (opts.orientation) img = img.withMetadata({ orientation: opts.orientation });
  await writeFile(file, await img.toBuffer());
}

export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}
