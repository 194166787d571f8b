import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../src-main/electron/csp';
import { createAppProtocolHandler, isInside, privilegedSchemes, safeSegments, type MediaProject, type MediaProvider } from '../../src-main/electron/protocol';

let tmp: string;
let handler: ReturnType<typeof createAppProtocolHandler>;
let project: MediaProject | null;
const served: number[] = [];
const paths = new Map<number, string>();
const recorded = new Map<number, string>();

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-proto-'));
  const renderer = join(tmp, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(tmp, 'secret.txt'), 'TOP SECRET');
  mkdirSync(join(tmp, 'outside'));
  writeFileSync(join(tmp, 'outside', 'x.txt'), 'outside');
  symlinkSync(join(tmp, 'secret.txt'), join(renderer, 'evil-link'));
  symlinkSync(join(tmp, 'outside'), join(renderer, 'dir-link'));

  const dir = join(tmp, 'project');
  mkdirSync(join(dir, 'media', 'ab'), { recursive: true });
  writeFileSync(join(dir, 'media', 'ab', 'img.png'), 'PNGDATA');
  mkdirSync(join(tmp, 'originals'));
  writeFileSync(join(tmp, 'originals', 'photo.jpg'), 'JPEGDATA');
  symlinkSync(join(tmp, 'secret.txt'), join(dir, 'media', 'ab', 'link.png'));
  // 1: normal copy; 2: symlink inside the project pointing out; 3: link-mode original outside the project;
  // 4: file missing; 5: path outside the project that the store did NOT record as a linked original.
  paths.set(1, join(dir, 'media', 'ab', 'img.png'));
  recorded.set(1, 'media/ab/img.png');
  paths.set(2, join(dir, 'media', 'ab', 'link.png'));
  recorded.set(2, join(dir, 'media', 'ab', 'link.png'));
  paths.set(3, join(tmp, 'originals', 'photo.jpg'));
  recorded.set(3, join(tmp, 'originals', 'photo.jpg'));
  paths.set(4, join(dir, 'media', 'ab', 'gone.png'));
  recorded.set(4, 'media/ab/gone.png');
  paths.set(5, join(tmp, 'secret.txt'));
  recorded.set(5, 'media/ab/other.png');
  project = {
    dir,
    imagePath(id) {
      const p = paths.get(id);
      if (!p) throw new Error(`image ${id} does not exist`);
      return p;
    },
    getImage: (id) => (recorded.has(id) ? { path: recorded.get(id) as string, hash: `${id}aaaabbbbccccdddd0000` } : null),
  };
  const media: MediaProvider = {
    project: () => project,
    imageLevel: async (id, max) => {
      served.push(id);
      return { bytes: Buffer.from(`${readFileSync(paths.get(id) as string, 'utf8')}@${max ?? 'full'}`), type: 'image/png' };
    },
    thumbnail: async (id, size) => {
      served.push(id);
      return { bytes: Buffer.from(`thumb${id}@${size}`), type: 'image/webp' };
    },
    download: (id) => (id === 'a'.repeat(32) ? { file: join(tmp, 'secret.txt'), name: 'proj-coco é.zip', bytes: 10 } : null),
  };
  handler = createAppProtocolHandler({ rendererDir: renderer, media });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handler({ url, method });

describe('app:// scheme registration', () => {
  it('is standard, secure, fetch/CORS/stream capable and never bypasses CSP', () => {
    expect(privilegedSchemes()).toEqual([
      {
        scheme: 'app',
        privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true, codeCache: true, bypassCSP: false, allowServiceWorkers: false },
      },
    ]);
  });
});

describe('renderer files', () => {
  it('serves index.html for / with the CSP and isolation headers', async () => {
    const r = await get('app://studio/');
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<title>studio</title>');
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('serves assets with their type', async () => {
    const r = await get('app://studio/assets/app.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await r.text()).toBe('console.log(1)');
  });

  it('HEAD has headers and no body', async () => {
    const r = await get('app://studio/index.html', 'HEAD');
    expect(r.status).toBe(200);
    expect(r.body).toBeNull();
  });

  it.each([
    ['plain ..', 'app://studio/../secret.txt'],
    ['.. inside a path', 'app://studio/assets/../../secret.txt'],
    ['encoded ..', 'app://studio/%2e%2e/secret.txt'],
    ['mixed-case encoded ..', 'app://studio/assets/%2E%2e/%2e%2E/secret.txt'],
    ['encoded slash', 'app://studio/assets%2f..%2f..%2fsecret.txt'],
    ['encoded backslash', 'app://studio/assets%5c..%5c..%5csecret.txt'],
    ['NUL byte', 'app://studio/index.html%00.png'],
    ['symlinked file pointing out', 'app://studio/evil-link'],
    ['symlinked folder pointing out', 'app://studio/dir-link/x.txt'],
    ['drive-qualified segment', 'app://studio/C:/secret.txt'],
  ])('refuses %s with 403 and leaks nothing', async (_name, url) => {
    const r = await get(url);
    expect(r.status).toBe(403);
    expect(await r.text()).not.toContain('TOP SECRET');
  });

  it('answers 400 to a malformed escape, 404 to missing files, folders and foreign hosts', async () => {
    expect((await get('app://studio/%E0%A4%A')).status).toBe(400);
    expect((await get('app://studio/nope.js')).status).toBe(404);
    expect((await get('app://studio/assets')).status).toBe(404);
    expect((await get('app://evil/index.html')).status).toBe(404);
  });

  it('refuses methods other than GET/HEAD', async () => {
    expect((await get('app://studio/index.html', 'POST')).status).toBe(405);
  });

  it('error responses carry the security headers too', async () => {
    const r = await get('app://studio/../secret.txt');
    expect(r.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
  });
});

describe('downloads', () => {
  it('serves a finished export as an attachment (Electron then asks where to save it), 404 for unknown ids', async () => {
    const r = await get(`app://studio/download/${'a'.repeat(32)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="proj-coco _.zip"; filename*=UTF-8''proj-coco%20%C3%A9.zip`);
    expect(r.headers.get('content-type')).toBe('application/zip');
    expect(await r.text()).toBe('TOP SECRET');
    expect((await get(`app://studio/download/${'b'.repeat(32)}`)).status).toBe(404);
    expect((await get(`app://studio/download/${'a'.repeat(32)}/x`)).status).toBe(404);
  });
});

describe('media by opaque id', () => {
  it('serves a project image through the provider, passing max', async () => {
    const r = await get('app://studio/media/image/1?max=512');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('PNGDATA@512');
    expect(r.headers.get('content-type')).toBe('image/png');
  });

  it('names the content in the URL: a versioned URL is cacheable, another version is refused, an unversioned one is never cached', async () => {
    const ok = await get('app://studio/media/image/1?v=1aaaabbbbccccddd&max=512');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toContain('immutable');
    // what project B's image 1 would ask for while project A is open: refused, not served from A's file
    served.length = 0;
    const other = await get('app://studio/media/image/1?v=ffffeeeeddddcccc&max=512');
    expect(other.status).toBe(404);
    expect((await get('app://studio/media/thumb/1?v=ffffeeeeddddcccc&size=64')).status).toBe(404);
    expect(served).toEqual([]);
    expect((await get('app://studio/media/image/1?max=512')).headers.get('cache-control')).toBe('no-store');
  });

  it('serves thumbnails with their size', async () => {
    const r = await get('app://studio/media/thumb/1?size=64');
    expect(await r.text()).toBe('thumb1@64');
  });

  it('serves a link-mode original the store recorded outside the project', async () => {
    const r = await get('app://studio/media/image/3');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('JPEGDATA@full');
  });

  it('refuses a symlink inside the project that points out (403) without calling the provider', async () => {
    served.length = 0;
    for (const kind of ['image', 'thumb']) {
      const r = await get(`app://studio/media/${kind}/2`);
      expect(r.status).toBe(403);
      expect(await r.text()).not.toContain('TOP SECRET');
    }
    expect(served).toEqual([]);
  });

  it('refuses a path outside the project that is not a recorded linked original', async () => {
    served.length = 0;
    expect((await get('app://studio/media/image/5')).status).toBe(403);
    expect(served).toEqual([]);
  });

  it('404s unknown ids, missing files and unknown routes; 400s malformed ids and sizes', async () => {
    expect((await get('app://studio/media/image/99')).status).toBe(404);
    expect((await get('app://studio/media/image/4')).status).toBe(404);
    expect((await get('app://studio/media/video/1')).status).toBe(404);
    expect((await get('app://studio/media/image/1/extra')).status).toBe(404);
    for (const bad of ['abc', '0', '-1', '1e3', '01']) expect((await get(`app://studio/media/image/${bad}`)).status).toBe(400);
    expect((await get('app://studio/media/image/1?max=-5')).status).toBe(400);
    expect((await get('app://studio/media/thumb/1?size=99999')).status).toBe(400);
  });

  it('refuses a path given instead of an id', async () => {
    expect((await get(`app://studio/media/image/${encodeURIComponent(join(tmp, 'secret.txt'))}`)).status).toBe(403);
  });

  it('404s when no project is open', async () => {
    const saved = project;
    project = null;
    try {
      expect((await get('app://studio/media/image/1')).status).toBe(404);
    } finally {
      project = saved;
    }
  });
});

describe('path helpers', () => {
  it('safeSegments decodes each segment and rejects traversal', () => {
    expect(safeSegments('/a/b%20c/d.js')).toEqual(['a', 'b c', 'd.js']);
    expect(() => safeSegments('/a/%2e%2e/b')).toThrow(/traversal/);
  });

  it('isInside is not fooled by a sibling with the same prefix', () => {
    expect(isInside('/srv/app', '/srv/app/x')).toBe(true);
    expect(isInside('/srv/app', '/srv/app')).toBe(true);
    expect(isInside('/srv/app', '/srv/app2/x')).toBe(false);
    expect(isInside('/srv/app', '/srv')).toBe(false);
  });
});
