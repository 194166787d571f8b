// The app:// scheme: the only origin the window ever loads. It serves the built renderer from one folder
// and project media by opaque image id (the store maps ids to files; a URL can never name a path). Every
// file is resolved with realpath and must still lie inside its root afterwards, so `..`, encoded `..`,
// encoded slashes, NUL bytes and symlinks pointing out of the root are all refused.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { checkMediaVersion } from '../contract/media-url';
import { securityHeaders } from './csp';
import type { CustomScheme, ProtocolRequest } from './electron-types';
import { APP_HOST, APP_SCHEME } from './origin';

/** Registered before `ready`: standard (real origin, relative URLs), secure (like https), fetch/CORS/streaming. */
export function privilegedSchemes(): CustomScheme[] {
  return [
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true, codeCache: true, bypassCSP: false, allowServiceWorkers: false },
    },
  ];
}

export interface MediaBytes {
  bytes: Buffer;
  type: string;
}

/** The part of the project store the handler needs to check a media path (ProjectStore satisfies it). */
export interface MediaProject {
  readonly dir: string;
  imagePath(id: number): string;
  /** `hash` (the content hash) lets media URLs name the content: see contract/media-url.ts */
  getImage(id: number): { path: string; hash?: string } | null;
}

/** What serves media bytes (the StudioService: pyramid levels and thumbnails), plus the open project. */
export interface MediaProvider {
  project(): MediaProject | null;
  imageLevel(id: number, max?: number): Promise<MediaBytes>;
  thumbnail(id: number, size?: number): Promise<MediaBytes>;
  /** A finished export's zip by its opaque id (export.dataset / export.modelDownload), or null. */
  download?(id: string): { file: string; name: string; bytes: number } | null;
}

export interface AppProtocolOptions {
  /** dist/renderer */
  rendererDir: string;
  media: MediaProvider;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

export class ProtocolError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * URL path → safe relative segments. Each segment is percent-decoded on its own, so `%2e%2e`, `%2f`, `%5c`
 * and `%00` are judged after decoding; any of them (or a malformed escape) refuses the request.
 */
export function safeSegments(pathname: string): string[] {
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new ProtocolError(400, `malformed escape in path segment '${raw}'`);
    }
    if (seg === '.' || seg === '..') throw new ProtocolError(403, 'path traversal refused');
    if (/[/\\\0]/.test(seg)) throw new ProtocolError(403, 'encoded separator or NUL in path refused');
    // A drive letter or UNC-ish segment would let join() leave the root on Windows.
    if (/^[a-zA-Z]:/.test(seg)) throw new ProtocolError(403, 'drive-qualified path segment refused');
    out.push(seg);
  }
  return out;
}

/** True when `child` is `root` itself or below it (both already absolute, real paths). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function realOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

/** realpath(root/…segments), which must exist, be a regular file, and still be inside realpath(root). */
export async function containedFile(root: string, segments: string[]): Promise<string> {
  const realRoot = await realOrNull(root);
  if (!realRoot) throw new ProtocolError(404, `folder ${root} does not exist`);
  const candidate = join(realRoot, ...segments);
  if (!isInside(realRoot, resolve(candidate))) throw new ProtocolError(403, 'path escapes its root');
  const real = await realOrNull(candidate);
  if (!real) throw new ProtocolError(404, `not found: /${segments.join('/')}`);
  if (!isInside(realRoot, real)) throw new ProtocolError(403, 'path resolves outside its root (symlink)');
  const st = await stat(real);
  if (!st.isFile()) throw new ProtocolError(404, `not a file: /${segments.join('/')}`);
  return real;
}

/**
 * The file the store maps image `id` to, checked after realpath: inside the project folder, or — for images
 * imported in link mode — exactly the absolute original the store recorded outside the project. A symlink
 * placed inside the project that points elsewhere fails both tests.
 */
export async function checkMediaPath(project: MediaProject, id: number): Promise<string> {
  let p: string;
  try {
    p = project.imagePath(id);
  } catch (err) {
    throw new ProtocolError(404, `image ${id}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const realDir = await realOrNull(project.dir);
  if (!realDir) throw new ProtocolError(404, `project folder ${project.dir} is gone`);
  const real = await realOrNull(p);
  if (!real) throw new ProtocolError(404, `image ${id}: file ${p} is missing`);
  if (isInside(realDir, real)) return real;
  const recorded = project.getImage(id)?.path;
  const linkedOriginal = recorded !== undefined && isAbsolute(recorded) && !isInside(resolve(project.dir), resolve(recorded));
  if (linkedOriginal && (await realOrNull(recorded)) === real) return real;
  throw new ProtocolError(403, `image ${id} resolves outside the project folder`);
}

function positiveInt(s: string | null, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (s === null || !/^[1-9][0-9]{0,15}$/.test(s) || Number(s) > max) throw new ProtocolError(400, `${what} must be a positive integer, got '${s}'`);
  return Number(s);
}

function respond(status: number, body: ConstructorParameters<typeof Response>[0], headers: Record<string, string>): Response {
  return new Response(body, { status, headers: { ...securityHeaders(), ...headers } });
}

function errorResponse(err: unknown): Response {
  const status = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
  const safeStatus = status >= 400 && status <= 599 ? status : 500;
  const msg = err instanceof Error ? err.message : String(err);
  return respond(safeStatus, msg, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
}

/** The protocol.handle('app', …) callback, independent of Electron (takes and returns WHATWG objects). */
export function createAppProtocolHandler(opts: AppProtocolOptions): (request: ProtocolRequest) => Promise<Response> {
  return async (request) => {
    try {
      const method = request.method.toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') throw new ProtocolError(405, `${method} is not served on ${APP_SCHEME}://`);
      // The raw path must be checked before URL parsing collapses `..` segments (which would hide the attempt).
      const rawPath = rawPathOf(request.url);
      if (rawPath.includes('\0') || /%00/i.test(rawPath)) throw new ProtocolError(403, 'NUL in path refused');
      const url = new URL(request.url);
      if (url.protocol !== `${APP_SCHEME}:` || url.hostname !== APP_HOST) throw new ProtocolError(404, `unknown host ${url.host}`);
      const segments = safeSegments(rawPath);

      if (segments[0] === 'media') return await serveMedia(opts.media, segments, url, method);
      if (segments[0] === 'download') return serveDownload(opts.media, segments, method);
      const rel = segments.length === 0 ? ['index.html'] : segments;
      const file = await containedFile(opts.rendererDir, rel);
      const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const body = method === 'HEAD' ? null : (Readable.toWeb(createReadStream(file)) as unknown as ReadableStream);
      return respond(200, body, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    } catch (err) {
      return errorResponse(err);
    }
  };
}

async function serveMedia(media: MediaProvider, segments: string[], url: URL, method: string): Promise<Response> {
  const [, kind, idText, ...rest] = segments;
  if ((kind !== 'image' && kind !== 'thumb') || rest.length > 0) throw new ProtocolError(404, `no media route /${segments.join('/')}`);
  const id = positiveInt(idText ?? null, 'image id');
  const project = media.project();
  if (!project) throw new ProtocolError(404, 'no project is open');
  await checkMediaPath(project, id);
  // A URL that names another content version (another project's image with the same id) is refused, and
  // only versioned URLs may be cached: app:// responses are cached by URL like any other.
  const version = checkMediaVersion(url.searchParams.get('v'), project.getImage(id)?.hash ?? '');
  if (!version.ok) throw new ProtocolError(404, version.message);
  const out =
    kind === 'image'
      ? await media.imageLevel(id, url.searchParams.has('max') ? positiveInt(url.searchParams.get('max'), 'max', 1 << 16) : undefined)
      : await media.thumbnail(id, url.searchParams.has('size') ? positiveInt(url.searchParams.get('size'), 'size', 4096) : undefined);
  return respond(200, method === 'HEAD' ? null : new Uint8Array(out.bytes), {
    'Content-Type': out.type,
    'Content-Length': String(out.bytes.length),
    'Cache-Control': version.cacheControl,
  });
}

/**
 * app://studio/download/<id>: the zip as an attachment. Electron turns an attachment into a download and,
 * with no save path set by the app, asks where to save it: the save dialog of issue 18.
 */
function serveDownload(media: MediaProvider, segments: string[], method: string): Response {
  const [, id, ...rest] = segments;
  const d = rest.length === 0 && id ? media.download?.(id) ?? null : null;
  if (!d) throw new ProtocolError(404, 'this download is no longer available: export again');
  const ascii = d.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return respond(200, method === 'HEAD' ? null : (Readable.toWeb(createReadStream(d.file)) as unknown as ReadableStream), {
    'Content-Type': 'application/zip',
    'Content-Length': String(d.bytes),
    'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(d.name)}`,
    'Cache-Control': 'no-store',
  });
}

/** The path part of a URL exactly as written (no dot-segment collapsing, no decoding). */
function rawPathOf(url: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(url);
  return m?.[1] ?? '/';
}
