// GET /media/image/<id>?v=<hash>&max=<px> and /media/thumb/<id>?v=<hash>&size=<px>: image bytes by opaque id,
// checked against the content version the URL names (contract/media-url.ts), so a cached or stale URL can
// never show another project's image.
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { checkMediaVersion } from '../contract/media-url';
import { ApiError } from '../core/app/errors';
import type { StudioService } from '../core/app/studio-service';

function positiveInt(s: string | null | undefined, what: string): number {
  const n = Number(s);
  if (s === null || s === undefined || !/^[0-9]+$/.test(s) || !Number.isSafeInteger(n) || n <= 0) throw new ApiError(400, `${what} must be a positive integer, got '${s}'`, what);
  return n;
}

/** Serves a media request when `path` is one; returns false for any other path. Throws ApiError to answer. */
export async function serveMedia(service: StudioService, method: string | undefined, path: string, query: URLSearchParams, res: ServerResponse): Promise<boolean> {
  const media = /^\/media\/(image|thumb)\/([^/]+)$/.exec(path);
  if (!media) return false;
  if (method !== 'GET' && method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ error: { message: 'media is fetched with GET' } }));
    return true;
  }
  const id = positiveInt(media[2], 'image id');
  const img = service.project?.getImage(id);
  if (!service.project) throw new ApiError(409, 'no project is open: create or open a project first');
  if (!img) throw new ApiError(404, `image ${id} does not exist in this project`);
  const version = checkMediaVersion(query.get('v'), img.hash);
  if (!version.ok) throw new ApiError(404, version.message, 'v');
  const out =
    media[1] === 'image'
      ? await service.imageLevel(id, query.has('max') ? positiveInt(query.get('max'), 'max') : undefined)
      : await service.thumbnail(id, query.has('size') ? positiveInt(query.get('size'), 'size') : undefined);
  res.statusCode = 200;
  res.setHeader('Content-Type', out.type);
  res.setHeader('Content-Length', out.bytes.length);
  res.setHeader('Cache-Control', version.cacheControl);
  res.end(method === 'HEAD' ? undefined : out.bytes);
  return true;
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** GET /download/<id>: a finished export's zip (export.dataset / export.modelDownload), as a download. */
export async function serveDownload(service: StudioService, method: string | undefined, path: string, res: ServerResponse): Promise<boolean> {
  const m = /^\/download\/([^/]+)$/.exec(path);
  if (!m) return false;
  if (method !== 'GET' && method !== 'HEAD') throw new ApiError(400, 'downloads are fetched with GET');
  const d = service.downloads.get(m[1]);
  if (!d) throw new ApiError(404, 'this download is no longer available (the studio keeps the last few exports until it stops): export again');
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Length', d.bytes);
  res.setHeader('Content-Disposition', contentDisposition(d.name));
  res.setHeader('Cache-Control', 'no-store');
  if (method === 'HEAD') return void res.end(), true;
  const stream = createReadStream(d.file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
  return true;
}
