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
  /** longest side of this level in px, or null for full resolution */
  level: number | null;
}

export class ImageLevels {
  private best: LoadedLevel | null = null;
  private loading = new Set<string>();
  private disposed = false;

  constructor(
    readonly imageId: number,
    private longest: number,
    private url: (max?: number) => string,
    private onUpdate: () => void,
  ) {}

  get current(): LoadedLevel | null {
    return this.best;
  }

  private rank(l: number | null): number {
    return l === null ? Infinity : l;
  }

  /** Make sure a level at least as fine as needed for `scale` is loaded (or loading). */
  ensure(scale: number, dpr = globalThis.devicePixelRatio || 1): void {
    this.want(neededLevel(this.longest, scale, dpr));
  }

  /** Starts with the first-paint level (a small, fast decode), whatever the zoom. */
  start(): void {
    this.want(neededLevel(this.longest, FIRST_LEVEL / this.longest));
  }

  private want(want: number | null): void {
    if (this.best && this.rank(this.best.level) >= this.rank(want)) return;
    const key = String(want);
    if (this.loading.has(key)) return;
    this.loading.add(key);
    void this.fetch(want).finally(() => this.loading.delete(key));
  }

  private async fetch(level: number | null): Promise<void> {
    const img = new Image();
    img.decoding = 'async';
    img.src = this.url(level ?? undefined);
    try {
      await img.decode();
    } catch {
      return; // an unreadable level keeps the coarser one on screen; the editor shows the image error
    }
    const bitmap = typeof createImageBitmap === 'function' ? await createImageBitmap(img).catch(() => img) : img;
    if (this.disposed) return;
    if (!this.best || this.rank(level) > this.rank(this.best.level)) {
      if (this.best && 'close' in this.best.bitmap) this.best.bitmap.close();
      this.best = { bitmap, level };
      this.onUpdate();
    } else if ('close' in bitmap) bitmap.close();
  }

  dispose(): void {
    this.disposed = true;
    if (this.best && 'close' in this.best.bitmap) this.best.bitmap.close();
    this.best = null;
  }
}
