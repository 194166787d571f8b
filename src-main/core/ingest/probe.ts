// Deciding whether a file is an image we can label: hash, header checks, a full decode, and the thumbnail
// from that same decode. Every rejection says why, in words a user can act on.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';

/** 16384 × 16384: larger images are refused before decoding (a decompression bomb costs gigabytes of RAM). */
export const MAX_SIDE = 16384;
export const MAX_PIXELS = MAX_SIDE * MAX_SIDE; // 268,435,456
/** Files are read whole to hash them; nothing we can label is this big. */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;
export const THUMB_SIZE = 256;

/** Formats sharp decodes that browsers (and our renderer) can also show; file extension used in media/. */
const FORMATS: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tif', avif: 'avif' };

export class RejectedImage extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RejectedImage';
  }
}

export interface ProbedImage {
  hash: string;
  /** 'jpeg' | 'png' | … */
  format: string;
  /** extension for the content-addressed copy */
  ext: string;
  bytes: number;
  /** dimensions after applying EXIF orientation (the frame annotations use) */
  width: number;
  height: number;
  /** as stored in the file, before orientation */
  rawWidth: number;
  rawHeight: number;
  orientation: number;
  /** WebP thumbnail, longest side THUMB_SIZE */
  thumb: Buffer;
  /** the file's bytes, so a copy does not read it twice (repaired ones when `repaired` is set) */
  data: Buffer;
  /** set when the file was damaged in a way that loses nothing and was mended: what was done */
  repaired?: string;
}

const fmtPixels = (n: number) => n.toLocaleString('en-US');

export async function probeFile(file: string): Promise<ProbedImage> {
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new RejectedImage('not a regular file');
    size = s.size;
  } catch (err) {
    if (err instanceof RejectedImage) throw err;
    throw new RejectedImage(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (size === 0) throw new RejectedImage('the file is empty');
  if (size > MAX_FILE_BYTES) throw new RejectedImage(`the file is ${fmtPixels(size)} bytes, above the ${fmtPixels(MAX_FILE_BYTES)}-byte limit`);
  return probeBuffer(await readFile(file));
}

export async function probeBuffer(data: Buffer): Promise<ProbedImage> {
  let meta: sharp.Metadata;
  try {
    // metadata() reads only the header: a 30000×30000 bomb is caught here before any pixel is decoded.
    meta = await sharp(data, { limitInputPixels: false }).metadata();
  } catch {
    throw new RejectedImage('not an image, or an image format that is not supported (use JPEG, PNG, WebP, TIFF, GIF or AVIF)');
  }
  let format = meta.format as string;
  if (format === 'heif') {
    if (meta.compression !== 'av1') throw new RejectedImage('HEIC/HEIF (HEVC) images are not supported; convert them to JPEG or PNG');
    format = 'avif';
  }
  const ext = FORMATS[format];
  if (!ext) throw new RejectedImage(`unsupported image format '${format}' (use JPEG, PNG, WebP, TIFF, GIF or AVIF)`);
  const rawWidth = meta.width ?? 0;
  const rawHeight = meta.pageHeight ?? meta.height ?? 0;
  if (!(rawWidth > 0 && rawHeight > 0)) throw new RejectedImage('the image header declares no size');
  if (rawWidth * rawHeight > MAX_PIXELS) {
    throw new RejectedImage(
      `the image is ${rawWidth}×${rawHeight} = ${fmtPixels(rawWidth * rawHeight)} pixels, above the limit of ` +
        `${fmtPixels(MAX_PIXELS)} (${MAX_SIDE}×${MAX_SIDE}); it was not decoded`,
    );
  }
  const orientation = meta.orientation && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  const swap = orientation >= 5;
  let thumb: Buffer;
  let repaired: string | undefined;
  try {
    thumb = await decodeThumb(data);
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    const truncated = /premature end|end of stream|truncat|unexpected end|short read|not enough data/i.test(msg);
    // Cameras and upload tools that cut only the 2-byte end marker (FFD9) leave every pixel intact: mend
    // that one case; a file cut inside the pixel data would decode as grey and stays refused.
    // failOn 'warning' on the mended file: a file cut inside the scan decodes with "premature end of data segment"
    // libvips' error text is shared between threads and can come back empty ("Unknown error") when another
    // image fails at the same moment: any failure of a JPEG without its end marker is worth the one retry
    const mended = format === 'jpeg' && !endsWithEoi(data) ? await decodeThumb(Buffer.concat([data, JPEG_EOI]), 'warning').catch(() => null) : null;
    if (mended) {
      thumb = mended;
      data = Buffer.concat([data, JPEG_EOI]);
      repaired = 'the JPEG end marker was missing; the image is complete without it and was imported';
    } else if (truncated || (format === 'jpeg' && !endsWithEoi(data))) throw new RejectedImage(`the file is truncated or damaged (${msg})`);
    else throw new RejectedImage(`the image could not be decoded (${msg})`);
  }
  return {
    hash: createHash('sha256').update(data).digest('hex'),
    format,
    ext,
    bytes: data.length,
    width: swap ? rawHeight : rawWidth,
    height: swap ? rawWidth : rawHeight,
    rawWidth,
    rawHeight,
    orientation,
    thumb,
    data,
    ...(repaired ? { repaired } : {}),
  };
}

const JPEG_EOI = Buffer.from([0xff, 0xd9]);
const endsWithEoi = (b: Buffer) => b.length >= 2 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;

/** The thumbnail is a full decode: failOn 'truncated' turns a cut-off file into an error instead of grey pixels. */
function decodeThumb(data: Buffer, failOn: 'truncated' | 'warning' = 'truncated'): Promise<Buffer> {
  return sharp(data, { failOn, limitInputPixels: MAX_PIXELS })
    .rotate()
    .resize({ width: THUMB_SIZE, height: THUMB_SIZE, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();
}

/** A thumbnail of another size, from the file on disk. */
export async function makeThumbnail(file: string, size: number): Promise<Buffer> {
  return sharp(file, { limitInputPixels: MAX_PIXELS })
    .rotate()
    .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();
}
