// Image file → raw RGB bytes, EXIF-oriented (annotations are in the oriented image's pixels), optionally
// downscaled by sharp so that later per-sample resampling never needs more pixels than the network sees.
import sharp from 'sharp';
import { MAX_PIXELS } from '../ingest/probe';
import { decodedPhoto, MAX_KEPT_PIXELS } from './decoded-photos';

export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`image '${file}' could not be decoded: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

export interface DecodedImage {
  /** [height*width*3] RGB, row-major */
  data: Uint8Array;
  width: number;
  height: number;
  /** Size of the EXIF-oriented original, the coordinate frame of the annotations. */
  origWidth: number;
  origHeight: number;
}

export interface DecodeOptions {
  /** Downscale (keeping aspect, never upscale) so the result fits inside width×height. */
  fitInside?: { width: number; height: number };
  /** Refuse images with more pixels than this before decoding (default: the store's bound). */
  maxPixels?: number;
  /** Name used in error messages (default: the path). */
  name?: string;
  /**
   * Decode only this region of the EXIF-oriented image (a tile of a large photo, training/tiles.ts): the result's
   * origWidth/origHeight are the region's, so a tile's annotations are read in the tile's own pixels.
   */
  crop?: ImageRegion;
}

/** A rectangle in the EXIF-oriented image's pixels. */
export interface ImageRegion {
  x: number;
  y: number;
  w: number;
  h: number;
}

export async function decodeImage(file: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const name = opts.name ?? file;
  const maxPixels = opts.maxPixels ?? MAX_PIXELS;
  const { rawW, rawH, swap } = await readHeader(file, name);
  if (rawW * rawH > maxPixels) {
    throw new ImageDecodeError(name, `${rawW}×${rawH} is more than the ${maxPixels.toLocaleString('en-US')} pixels allowed`);
  }
  const fullWidth = swap ? rawH : rawW;
  const fullHeight = swap ? rawW : rawH;
  const crop = opts.crop;
  if (crop) {
    const ok = [crop.x, crop.y, crop.w, crop.h].every(Number.isInteger) && crop.x >= 0 && crop.y >= 0 && crop.w > 0 && crop.h > 0 && crop.x + crop.w <= fullWidth && crop.y + crop.h <= fullHeight;
    if (!ok) throw new ImageDecodeError(name, `the region ${crop.w}×${crop.h} at (${crop.x}, ${crop.y}) is not inside the ${fullWidth}×${fullHeight} image`);
  }
  const origWidth = crop ? crop.w : fullWidth;
  const origHeight = crop ? crop.h : fullHeight;

  let width = origWidth;
  let height = origHeight;
  if (opts.fitInside) {
    const f = Math.min(1, opts.fitInside.width / origWidth, opts.fitInside.height / origHeight);
    if (f < 1) {
      width = Math.max(1, Math.round(origWidth * f));
      height = Math.max(1, Math.round(origHeight * f));
    }
  }
  try {
    let img: sharp.Sharp;
    if (crop && rawW * rawH <= MAX_KEPT_PIXELS) {
      // a tile: cut from the photo decoded once for all its tiles
      const photo = await decodedPhoto(file, maxPixels);
      if (photo.width !== fullWidth || photo.height !== fullHeight) throw new Error(`decoded to ${photo.width}×${photo.height}, expected ${fullWidth}×${fullHeight}`);
      img = sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: photo.channels } }).extract({ left: crop.x, top: crop.y, width: crop.w, height: crop.h });
    } else {
      img = sharp(file, { limitInputPixels: maxPixels, failOn: 'truncated' }).rotate();
      // sharp orders rotate → extract → resize as written: the region is taken from the oriented image
      if (crop) img = img.extract({ left: crop.x, top: crop.y, width: crop.w, height: crop.h });
    }
    if (width !== origWidth || height !== origHeight) img = img.resize(width, height, { fit: 'fill' });
    const { data, info } = await img.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.width !== width || info.height !== height) {
      throw new Error(`decoded to ${info.width}×${info.height}, expected ${width}×${height}`);
    }
    return { data: toRgb(data, info.channels, width * height), width, height, origWidth, origHeight };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(name, reasonOf(e));
  }
}

/** The EXIF-oriented size (the annotations' frame) from the file's header alone, without decoding a pixel. */
export async function orientedSize(file: string, name = file): Promise<{ width: number; height: number }> {
  const { rawW, rawH, swap } = await readHeader(file, name);
  return swap ? { width: rawH, height: rawW } : { width: rawW, height: rawH };
}

/** The stored size and whether EXIF orientation (5–8) swaps it, from the header; a file without a size is refused. */
async function readHeader(file: string, name: string): Promise<{ rawW: number; rawH: number; swap: boolean }> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageDecodeError(name, reasonOf(e));
  }
  const rawW = meta.width ?? 0;
  const rawH = meta.height ?? 0;
  if (!(rawW > 0 && rawH > 0)) throw new ImageDecodeError(name, 'the file declares no image size');
  return { rawW, rawH, swap: (meta.orientation ?? 1) >= 5 };
}

function toRgb(buf: Buffer, channels: number, n: number): Uint8Array {
  if (channels === 3) return new Uint8Array(buf.buffer, buf.byteOffset, n * 3);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    if (channels < 3) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = buf[p];
    else {
      out[3 * i] = buf[p];
      out[3 * i + 1] = buf[p + 1];
      out[3 * i + 2] = buf[p + 2];
    }
  }
  return out;
}

function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // sharp prefixes libvips' multi-line logs; the first line is the useful one
  return msg.split('\n')[0].replace(/^Input (file|buffer) /, 'the file ') || 'unknown error';
}
