// Expanding the user's selection (files and folders) into the list of files to ingest.
import { realpath, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

export interface WalkedFile {
  abs: string;
  /** the name recorded for the image: the file name, or its path below (and including) the chosen folder */
  name: string;
}

export interface WalkResult {
  files: WalkedFile[];
  skipped: { path: string; reason: string }[];
}

/**
 * Files named explicitly are always probed (their content decides). Inside folders, only image extensions are
 * taken; other files are reported as skipped and hidden entries (.DS_Store, .git) are ignored.
 */
export async function walk(paths: string[], signal?: AbortSignal): Promise<WalkResult> {
  const out: WalkResult = { files: [], skipped: [] };
  const seenDirs = new Set<string>();
  const visit = async (abs: string, name: string, explicit: boolean): Promise<void> => {
    if (signal?.aborted) return;
    let s;
    try {
      s = await stat(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      out.skipped.push({ path: abs, reason: code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'no permission to read it' : `cannot read (${code ?? (err as Error).message})` });
      return;
    }
    if (s.isDirectory()) {
      // Symlinked folders could loop; each real folder is walked once.
      const real = await realpath(abs);
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      let entries: string[];
      try {
        entries = (await readdir(abs)).sort();
      } catch (err) {
        out.skipped.push({ path: abs, reason: `cannot list the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
        return;
      }
      for (const e of entries) {
        if (e.startsWith('.')) continue;
        await visit(join(abs, e), `${name}/${e}`, false);
      }
    } else if (s.isFile()) {
      if (!explicit && !IMAGE_EXTENSIONS.has(extname(abs).toLowerCase())) {
        out.skipped.push({ path: abs, reason: `not an image file (extension '${extname(abs) || 'none'}')` });
        return;
      }
      out.files.push({ abs, name });
    } else out.skipped.push({ path: abs, reason: 'not a regular file' });
  };
  for (const p of paths) {
    const abs = resolve(p);
    await visit(abs, basename(abs), true);
  }
  return out;
}
