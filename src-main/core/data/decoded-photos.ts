// Cutting a photo into tiles decodes it once: the EXIF-oriented pixels of the last few photos asked for stay in
// memory (a 12 MP photo is 36 MB), so the tiles of one photo, asked for one after another by the cache fill, the
// data pipeline and tiled prediction, are cut from one decode instead of each decoding the whole JPEG again.
import { statSync } from 'node:fs';
import sharp from 'sharp';

export interface RawPhoto {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** photos kept decoded: the one being cut, and the one before it (a flip or a neighbour asked for late) */
const KEEP = 2;
/** larger photos are not kept (a 268 MP photo would be 800 MB): each region is decoded on its own */
export const MAX_KEPT_PIXELS = 40_000_000;
const photos = new Map<string, Promise<RawPhoto>>();

/** The whole EXIF-oriented photo as raw 8-bit pixels, decoded at most once while it stays among the last KEEP. */
export function decodedPhoto(file: string, maxPixels: number): Promise<RawPhoto> {
  let stamp = '';
  try {
    const st = statSync(file);
    stamp = `${st.mtimeMs}|${st.size}`;
  } catch {
    // a missing file fails in sharp below, with its own message
  }
  const key = `${file}|${stamp}|${maxPixels}`;
  const hit = photos.get(key);
  if (hit) {
    photos.delete(key); // re-insert: Map order is the LRU order
    photos.set(key, hit);
    return hit;
  }
  const p = sharp(file, { limitInputPixels: maxPixels, failOn: 'truncated' })
    .rotate()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => ({ data, width: info.width, height: info.height, channels: info.channels }));
  photos.set(key, p);
  p.catch(() => {
    if (photos.get(key) === p) photos.delete(key);
  });
  while (photos.size > KEEP) photos.delete(photos.keys().next().value!);
  return p;
}

export function decodedPhotosKept(): number {
  return photos.size;
}
