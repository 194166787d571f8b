import { afterEach, describe, expect, it, vi } from 'vitest';
import { levelFor } from '../../../src-main/core/app/image-pyramid';
import { decodeUrl, firstLevel, ImageLevels, neededLevel, prefetchLevel } from '../../../src-renderer/src/editor/image-levels';

describe('image pyramid levels', () => {
  it('asks for the smallest power-of-two level that covers the on-screen size', () => {
    expect(neededLevel(6000, 0.2)).toBe(2048); // 1200 px on screen
    expect(neededLevel(6000, 0.1)).toBe(1024);
    expect(neededLevel(6000, 0.1, 2)).toBe(2048); // HiDPI needs twice the pixels
    expect(neededLevel(6000, 1)).toBeNull(); // full resolution
    expect(neededLevel(800, 0.5)).toBe(512);
    expect(neededLevel(800, 0.9)).toBeNull(); // 1024 ≥ the image: use the original
  });

  it('paints first from ~1 MP and agrees with the server on level names', () => {
    expect(firstLevel(6000, 4000)).toBe(1024);
    expect(firstLevel(640, 480)).toBeNull();
    for (const [w, h, max] of [[6000, 4000, 1024], [6000, 4000, 300], [3000, 2000, 2048], [800, 600, 1024]] as const) {
      const client = neededLevel(Math.max(w, h), max / Math.max(w, h));
      expect(levelFor(client ?? undefined, w, h), `${w}x${h}@${max}`).toBe(client);
    }
  });
});

describe('ImageLevels: preview first, then the first level, finer levels after it', () => {
  type Pending = { url: string; resolve: (ok: boolean) => void };
  function harness(longest: number) {
    const asked: Pending[] = [];
    const closed: string[] = [];
    let updates = 0;
    const decode = (url: string) =>
      new Promise<ImageBitmap | null>((resolve) =>
        asked.push({ url, resolve: (ok) => resolve(ok ? ({ width: 1, height: 1, close: () => closed.push(url), url } as unknown as ImageBitmap) : null) }),
      );
    const levels = new ImageLevels(7, longest, { url: (max) => `L${max ?? 'full'}`, preview: 'thumb', onUpdate: () => updates++, decode });
    const settle = () => new Promise((r) => setTimeout(r, 0));
    const shown = () => (levels.current?.bitmap as unknown as { url: string } | undefined)?.url ?? null;
    return { asked, closed, levels, settle, shown, updates: () => updates };
  }

  it('paints the thumbnail at once and swaps in the sharp level when it arrives', async () => {
    const h = harness(6000);
    h.levels.start();
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024']);
    h.asked[0].resolve(true);
    await h.settle();
    expect(h.shown()).toBe('thumb');
    expect(h.levels.current?.level).toBe('preview');
    expect(h.levels.sharp).toBe(false);
    h.asked[1].resolve(true);
    await h.settle();
    expect(h.shown()).toBe('L1024');
    expect(h.levels.sharp).toBe(true);
    expect(h.closed).toEqual(['thumb']); // the replaced bitmap is released
    expect(h.updates()).toBe(2);
  });

  it('never lets a late thumbnail replace a sharper level', async () => {
    const h = harness(6000);
    h.levels.start();
    h.asked[1].resolve(true);
    await h.settle();
    h.asked[0].resolve(true);
    await h.settle();
    expect(h.shown()).toBe('L1024');
    expect(h.closed).toEqual(['thumb']);
  });

  it('asks for the finer level the zoom needs only after the first level, so it cannot slow it down', async () => {
    const h = harness(6000);
    h.levels.start();
    h.levels.ensure(0.2, 1); // fitted: 1200 px on screen needs 2048
    h.levels.ensure(0.1, 1);
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024']);
    h.asked[1].resolve(true);
    await h.settle();
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024', 'L2048']);
    h.asked[2].resolve(true);
    await h.settle();
    expect(h.shown()).toBe('L2048');
  });

  it('still fetches the finer level when the first one fails, and keeps the preview meanwhile', async () => {
    const h = harness(6000);
    h.levels.start();
    h.levels.ensure(1, 1); // 1:1 needs the full image
    h.asked[0].resolve(true);
    h.asked[1].resolve(false);
    await h.settle();
    expect(h.shown()).toBe('thumb');
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024', 'Lfull']);
    h.asked[2].resolve(true);
    await h.settle();
    expect(h.shown()).toBe('Lfull');
  });

  it('while zooming keeps a level stretched at most 2x, then asks for the needed one once the view settles', async () => {
    const h = harness(6000);
    h.levels.start();
    h.asked[1].resolve(true); // L1024 on screen
    await h.settle();
    h.levels.ensure(0.3, 1, true); // 1800 px on screen: L1024 stretched 1.76x, enough while moving
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024']);
    h.levels.ensure(0.5, 1, true); // 3000 px: stretched 2.9x, too blurry even while moving: the needed level, not 2048
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024', 'L4096']);
    h.levels.ensure(0.3, 1, false); // settled back at 1800 px: the needed level at once (L4096 is still loading)
    expect(h.asked.map((a) => a.url)).toEqual(['thumb', 'L1024', 'L4096', 'L2048']);
  });

  it('releases whatever arrives after dispose', async () => {
    const h = harness(6000);
    h.levels.start();
    h.levels.dispose();
    h.asked[1].resolve(true);
    await h.settle();
    expect(h.levels.current).toBeNull();
    expect(h.closed).toEqual(['L1024']);
  });
});

describe('decodeUrl: pyramid levels are decoded from their bytes, off the main thread', () => {
  afterEach(() => vi.unstubAllGlobals());

  function stubs(ok = true) {
    const fetched: string[] = [];
    const decoded: unknown[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      fetched.push(url);
      return { ok, blob: async () => new Blob([url]) } as unknown as Response;
    });
    vi.stubGlobal('createImageBitmap', async (src: unknown) => {
      decoded.push(src);
      return { width: 4, height: 3, close: () => undefined } as unknown as ImageBitmap;
    });
    return { fetched, decoded };
  }

  it('fetches the level and hands createImageBitmap the Blob (never an <img>, which decodes on the main thread)', async () => {
    const s = stubs();
    const bmp = await decodeUrl('/media/image/1?v=abc&max=4096');
    expect(bmp?.width).toBe(4);
    expect(s.fetched).toEqual(['/media/image/1?v=abc&max=4096']);
    expect(s.decoded).toHaveLength(1);
    expect(s.decoded[0]).toBeInstanceOf(Blob);
  });

  it('uses a prefetched download once instead of fetching again', async () => {
    const s = stubs();
    prefetchLevel('/media/image/2?v=abc&max=1024');
    await decodeUrl('/media/image/2?v=abc&max=1024');
    expect(s.fetched).toEqual(['/media/image/2?v=abc&max=1024']);
    await decodeUrl('/media/image/2?v=abc&max=1024'); // consumed: a second decode downloads again
    expect(s.fetched).toHaveLength(2);
  });

  it('decodes a prefetch marked decode as soon as its bytes arrive, and hands that bitmap over once', async () => {
    const s = stubs();
    prefetchLevel('/media/image/3?v=abc&max=1024', { decode: true });
    await new Promise((r) => setTimeout(r, 0));
    expect(s.decoded).toHaveLength(1); // before anyone asked for it
    const bmp = await decodeUrl('/media/image/3?v=abc&max=1024');
    expect(bmp?.width).toBe(4);
    expect(s.fetched).toEqual(['/media/image/3?v=abc&max=1024']);
    expect(s.decoded).toHaveLength(1); // not decoded a second time
  });

  it('keeps only the bytes of a plain prefetch (neighbours): no decode until asked', async () => {
    const s = stubs();
    prefetchLevel('/media/image/4?v=abc&max=1024');
    await new Promise((r) => setTimeout(r, 0));
    expect(s.decoded).toHaveLength(0);
    await decodeUrl('/media/image/4?v=abc&max=1024');
    expect(s.decoded).toHaveLength(1);
  });
});
