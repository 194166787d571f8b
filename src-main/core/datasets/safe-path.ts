// Paths named inside dataset files (COCO file_name, YOLO list entries, LabelMe imagePath) are untrusted:
// they must resolve inside the dataset root. The check is lexical (after normalising separators); symlinks
// inside the root are followed on purpose, since datasets often link their image folders elsewhere.
import path from 'node:path';

export type SafePath = { ok: true; abs: string; rel: string } | { ok: false; reason: string };

/** True if `abs` (already absolute and normalised) is `root` itself or lies below it. */
export function isInside(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  if (rel === '') return true;
  if (path.isAbsolute(rel)) return false;
  return rel !== '..' && !rel.startsWith(`..${path.sep}`);
}

/**
 * Resolve `name` against `root`. Backslashes are treated as separators (datasets written on Windows);
 * absolute names are accepted only when they point inside the root; `..` that leaves the root is refused.
 */
export function resolveInside(root: string, name: string): SafePath {
  if (typeof name !== 'string' || name.length === 0) return { ok: false, reason: 'empty path' };
  if (name.includes('\0')) return { ok: false, reason: 'path contains a NUL byte' };
  const normalised = name.replace(/\\/g, '/');
  const absRoot = path.resolve(root);
  const isAbs = path.isAbsolute(normalised) || /^[A-Za-z]:\//.test(normalised);
  const abs = isAbs ? path.resolve(normalised) : path.resolve(absRoot, normalised);
  if (!isInside(absRoot, abs)) {
    return {
      ok: false,
      reason: isAbs
        ? `absolute path '${name}' is outside the dataset root ${absRoot}`
        : `path '${name}' leaves the dataset root (path traversal)`,
    };
  }
  return { ok: true, abs, rel: path.relative(absRoot, abs).split(path.sep).join('/') };
}

/** A relative file name that is safe to write below an output folder ("a/b c.jpg"), or null. */
export function safeRelativeName(name: string): string | null {
  const n = name.replace(/\\/g, '/').replace(/^\.\/+/, '');
  if (!n || n.startsWith('/') || /^[A-Za-z]:\//.test(n)) return null;
  const parts = n.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return null;
  return n;
}
