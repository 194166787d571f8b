// Media URLs name the content, not only the per-project image id: image 1 of project A and image 1 of project B
// get different URLs (their file hashes differ), so a response the browser cached for one project can never be
// drawn for another. Server mode and the Electron app:// protocol both parse the same form and refuse a
// version that no longer matches the open project's image (404), so a stale page cannot get wrong bytes either.

/** What a media URL needs of an image record. */
export interface MediaRef {
  id: number;
  /** the content hash the store recorded at import (ImageRecord.hash) */
  hash: string;
}

/** Enough of the hash to tell images apart; the whole hash would only lengthen every URL. */
export const MEDIA_VERSION_CHARS = 16;

export const mediaVersion = (hash: string): string => hash.slice(0, MEDIA_VERSION_CHARS);

/** Relative URL of a pyramid level (`max` px longest side; full size when omitted). */
export function imageMediaUrl(ref: MediaRef, max?: number, base = ''): string {
  return `${base}media/image/${ref.id}?v=${encodeURIComponent(mediaVersion(ref.hash))}${max ? `&max=${max}` : ''}`;
}

export function thumbMediaUrl(ref: MediaRef, size = 256, base = ''): string {
  return `${base}media/thumb/${ref.id}?v=${encodeURIComponent(mediaVersion(ref.hash))}&size=${size}`;
}

/**
 * The version a request names must be a prefix of the image's hash. Unversioned requests stay allowed (old
 * pages, scripts), but they must not be cached: `cacheControl` says how long a response may live.
 */
export function checkMediaVersion(v: string | null, hash: string): { ok: true; cacheControl: string } | { ok: false; message: string } {
  if (v === null) return { ok: true, cacheControl: 'no-store' };
  if (v.length < 8 || !hash.startsWith(v)) return { ok: false, message: `this image has changed or belongs to another project (version ${v.slice(0, 16)}): reload the page` };
  // Same URL = same bytes, so the browser may keep it as long as it likes.
  return { ok: true, cacheControl: 'private, max-age=31536000, immutable' };
}

/** Relative URL of a finished export's zip (job.done `download.id`). */
export const downloadPath = (id: string, base = ''): string => `${base}download/${encodeURIComponent(id)}`;
