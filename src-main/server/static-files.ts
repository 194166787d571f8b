// Serves the built renderer (dist/renderer) and nothing else: paths are normalised and must stay inside root.
import { createReadStream, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Resolves a URL path inside `root`, or null for anything that would escape it (.., encoded slashes, NUL). */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const rel = normalize(decoded).replace(/^([/\\])+/, '');
  if (rel.split(/[/\\]/).includes('..')) return null;
  const full = join(root, rel);
  if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  return full;
}

export function serveStatic(root: string, urlPath: string, res: ServerResponse): boolean {
  const path = urlPath === '/' ? '/index.html' : urlPath;
  const full = resolveStatic(root, path);
  if (!full) return false;
  let st;
  try {
    st = statSync(full);
  } catch {
    return false;
  }
  if (!st.isFile()) return false;
  res.statusCode = 200;
  res.setHeader('Content-Type', TYPES[extname(full).toLowerCase()] ?? 'application/octet-stream');
  res.setHeader('Content-Length', st.size);
  // Hashed asset names can be cached forever; index.html must always be fresh.
  res.setHeader('Cache-Control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  createReadStream(full).pipe(res);
  return true;
}
