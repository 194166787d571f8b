// The client half of the image pyramid: paint a small level at once, then fetch the level the zoom needs.
// Only decoded bitmaps are kept (never re-decoded per frame); they live outside Vue's reactivity.

export const LEVELS = [256, 512, 1024, 2048, 4096, 8192];

/** The level (longest side in px) needed to show an image of longest side `longest` at `scale`; null = full. */
export function neededLevel(longest: number, scale: number, dpr = 1): number | null {
  const px = longest * scale * dpr;
  const l = LEVELS.find((v) => v >= px);
  return l === undefined || l >= longest ? null : l;
}

/** The level every image is first painted from (~1 MP), so neighbours can be prefetched with the same URL. */
export const FIRST_LEVEL = 1024;
export const firstLevel = (width: number, height: number): number | null => neededLevel(Math.max(width, height), FIRST_LEVEL / Math.max(width, height));

export interface LoadedLevel {
  bitmap: ImageBitmap | HTMLImageElement;
  /** longest side of this level in px, null for full resolution, 'preview' for the gallery thumbnail */
  level: number | null | 'preview';
}

type Bitmap = LoadedLevel['bitmap'];

/**
 * Downloads started before the editor knows it needs them (stores/annotations starts the first level
 * ahead of the annotation calls, so the server answers it first); consumed once by decodeUrl. An entry may
 * also carry its decode, started as soon as the bytes are in (the image being opened: the decoder threads
 * work while the main thread mounts the editor, instead of after it).
 */
interface Early {
  blob: Promise<Blob | null>;
  bitmap?: Promise<Bitmap | null>;
}
const early = new Map<string, Early>();
const EARLY_MAX = 8;

/**
 * Starts downloading a level. `decode`: decode it too as soon as it arrives (only for the image about to be
 * shown: a decoded 1 MP level is ~4 MB, so neighbours keep just their bytes).
 */
export function prefetchLevel(url: string, opts: { decode?: boolean } = {}): void {
  if (typeof fetch !== 'function') return;
  let e = early.get(url);
  if (!e) early.set(url, (e = { blob: fetchBlob(url) }));
  if (opts.decode && !e.bitmap && typeof createImageBitmap === 'function') {
    e.bitmap = e.blob.then((b) => (b ? createImageBitmap(b).catch(() => null) : null));
  }
  for (const [k, v] of early) {
    if (early.size <= EARLY_MAX) break;
    early.delete(k);
    void v.bitmap?.then((b) => b && close(b)); // never handed out: release the decoded pixels
  }
}

/**
 * Decodes an image URL off the main thread: the bytes are fetched and createImageBitmap(blob) decodes them on
 * the browser's decoder threads. (createImageBitmap of an <img> decodes again on the main thread: a 4096 px
 * level froze wheel-zooming for ~450 ms.) Falls back to an <img> where fetch or createImageBitmap is missing
 * or refuses the bytes; null when the image cannot be read at all.
 */
export async function decodeUrl(url: string): Promise<Bitmap | null> {
  if (typeof createImageBitmap === 'function') {
    const pending = early.get(url);
    early.delete(url);
    const ready = pending?.bitmap ? await pending.bitmap : null;
    if (ready) return ready;
    const blob = await (pending?.blob ?? (typeof fetch === 'function' ? fetchBlob(url) : Promise.resolve(null)));
    if (blob) {
      const bitmap = await createImageBitmap(blob).catch(() => null);
      if (bitmap) return bitmap;
    }
  }
  return decodeSmall(url);
}

const fetchBlob = (url: string): Promise<Blob | null> =>
  fetch(url)
    .then((r) => (r.ok ? r.blob() : null))
    .catch(() => null);

/**
 * Decodes a small image through an <img> (the gallery's thumbnail is usually in the page's memory cache, which
 * fetch does not see); a 256 px decode costs the main thread next to nothing.
 */
export async function decodeSmall(url: string): Promise<Bitmap | null> {
  const img = new Image();
  img.decoding = 'async';
  img.src = url;
  try {
    await img.decode();
  } catch {
    return null;
  }
  return typeof createImageBitmap === 'function' ? await createImageBitmap(img).catch(() => img) : img;
}

const close = (b: Bitmap) => {
  if ('close' in b) b.close();
};

export interface ImageLevelsOptions {
  /** URL of a pyramid level (longest side ≥ max; full size when omitted) */
  url: (max?: number) => string;
  /**
   * URL of the small thumbnail the gallery already shows (made at import, so it is on disk and usually in
   * the browser's memory cache): painted at once, blurry, until the first level arrives.
   */
  preview?: string;
  onUpdate: () => void;
  decode?: (url: string) => Promise<Bitmap | null>;
  /** decoder of the preview (default decodeSmall; tests pass the same fake as decode) */
  decodeSmall?: (url: string) => Promise<Bitmap | null>;
}

export class ImageLevels {
  private best: LoadedLevel | null = null;
  private loading = new Set<string>();
  private disposed = false;
  /** A finer level asked for before the first level arrived (fetched after it, not competing with it). */
  private deferred: number | null | undefined = undefined;
  private firstPending = false;
  private readonly decode: (url: string) => Promise<Bitmap | null>;
  private readonly decodePreview: (url: string) => Promise<Bitmap | null>;

  constructor(
    readonly imageId: number,
    private longest: number,
    private opts: ImageLevelsOptions,
  ) {
    this.decode = opts.decode ?? decodeUrl;
    this.decodePreview = opts.decodeSmall ?? opts.decode ?? decodeSmall;
  }

  get current(): LoadedLevel | null {
    return this.best;
  }

  /** True once a real pyramid level (not just the preview) is on screen. */
  get sharp(): boolean {
    return !!this.best && this.best.level !== 'preview';
  }

  private rank(l: LoadedLevel['level']): number {
    return l === 'preview' ? 0 : l === null ? Infinity : l;
  }

  /**
   * Make sure a level at least as fine as needed for `scale` is loaded (or loading). While the view `moving`
   * (a wheel zoom in progress) the level on screen is kept as long as it is stretched at most 2×: each level
   * skipped is a decode (a 24 MP one is ~1 s of a core, on a 2-core machine beside the frames) that the next
   * notch would supersede; the frame after the zoom settles asks again.
   */
  ensure(scale: number, dpr = globalThis.devicePixelRatio || 1, moving = false): void {
    const need = neededLevel(this.longest, scale, dpr);
    if (moving && this.best && this.sideOf(this.best.level) * 2 >= this.longest * scale * dpr) return;
    this.want(need);
  }

  /** longest side in px of a loaded level (the preview is the gallery's 256 px thumbnail) */
  private sideOf(l: LoadedLevel['level']): number {
    return l === 'preview' ? 256 : l === null ? this.longest : Math.min(l, this.longest);
  }

  /**
   * Paints the preview at once and fetches the first-paint level (a small, fast decode), whatever the zoom;
   * finer levels wait for it, so on a busy machine they do not slow down the first sharp frame.
   */
  start(): void {
    if (this.opts.preview) void this.fetch(this.opts.preview, 'preview');
    this.firstPending = true;
    const first = neededLevel(this.longest, FIRST_LEVEL / this.longest);
    this.want(first, true);
  }

  private want(want: number | null, first = false): void {
    if (this.best && this.rank(this.best.level) >= this.rank(want)) return;
    if (this.firstPending && !first) {
      if (this.deferred === undefined || this.rank(want) > this.rank(this.deferred)) this.deferred = want;
      return;
    }
    const key = String(want);
    if (this.loading.has(key)) return;
    this.loading.add(key);
    void this.fetch(this.opts.url(want ?? undefined), want).finally(() => {
      this.loading.delete(key);
      if (first) this.firstArrived();
    });
  }

  private firstArrived(): void {
    this.firstPending = false;
    const d = this.deferred;
    this.deferred = undefined;
    if (d !== undefined && !this.disposed) this.want(d);
  }

  private async fetch(url: string, level: LoadedLevel['level']): Promise<void> {
    // An unreadable level keeps the coarser one on screen; the editor shows the image error.
    const bitmap = await (level === 'preview' ? this.decodePreview : this.decode)(url);
    if (!bitmap) return;
    if (this.disposed) return close(bitmap);
    if (!this.best || this.rank(level) > this.rank(this.best.level)) {
      if (this.best) close(this.best.bitmap);
      this.best = { bitmap, level };
      this.opts.onUpdate();
    } else close(bitmap);
  }

  dispose(): void {
    this.disposed = true;
    if (this.best) close(this.best.bitmap);
    this.best = null;
  }
}
