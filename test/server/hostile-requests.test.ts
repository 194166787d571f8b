// Server mode treated like any local web app (issue 21): Host check, Origin/Sec-Fetch-Site for cookie writes,
// Content-Type on the API, a login redirect that stays on this origin, streamed and bounded uploads, paths that
// used to hang the server, and domain refusals that answer 400/404/409 naming the field or id.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';
import { startServer, type RunningServer } from '../../src-main/server/http-server';

let tmp: string;
let srv: RunningServer;
let service: StudioService;
let origin: string;
let hostHeader: string;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: { error?: { message: string; field?: string } } & Record<string, unknown>;
}

/** A request with exactly these headers (fetch would add or forbid some: Host, Origin, Sec-Fetch-Site). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, method, path, headers: { host: hostHeader, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = {};
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const bearer = () => ({ authorization: `Bearer ${srv.token}` });
const cookie = () => ({ cookie: `hst_token=${srv.token}` });
const api = (method: string, body: unknown, headers: Record<string, string> = bearer()) =>
  raw('POST', `/api/${method}`, { 'content-type': 'application/json', ...headers }, JSON.stringify(body));
const revision = async () => ((await api('project.info', {})).json as { revision: number }).revision;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-hostile-'));
  const web = join(tmp, 'web');
  mkdirSync(web);
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>studio</title>');
  // a staging folder left by a server that was killed (pid 2^22+1 is above Linux's pid_max default)
  mkdirSync(join(tmp, 'uploads', 'hst-studio-uploads', '4194305-dead', 'b1'), { recursive: true });
  writeFileSync(join(tmp, 'uploads', 'hst-studio-uploads', '4194305-dead', 'b1', 'x.png'), 'left over');
  service = new StudioService({
    mode: 'server',
    stores: sqliteStores,
    doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'x', extraKernels: [], notes: [] }),
    recent: new RecentList(join(tmp, 'recent.json')),
    uploadBase: join(tmp, 'uploads'),
    uploadLimits: { fileBytes: 4 * 1024 * 1024, batchBytes: 6 * 1024 * 1024, batchFiles: 10 },
  });
  srv = await startServer({ service, staticDir: web, port: 0 });
  hostHeader = `127.0.0.1:${srv.port}`;
  origin = `http://${hostHeader}`;
  expect((await api('project.create', { dir: join(tmp, 'proj') })).status).toBe(200);
  const cls = { id: 1, name: 'cat', color: '#ff0000', hotkey: null, order: 0 };
  expect((await api('annotations.apply', { changeset: { classes: { created: [cls], updated: [], deleted: [] } } })).status).toBe(200);
});

afterAll(async () => {
  await srv?.close();
  service?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('request rules', () => {
  it('refuses a Host that is not this server, for HTTP and the WebSocket upgrade (DNS rebinding)', async () => {
    const r = await raw('POST', '/api/app.info', { host: `evil.example:${srv.port}`, 'content-type': 'application/json', ...bearer() }, '{}');
    expect(r.status).toBe(403);
    expect(r.json.error?.message).toMatch(/Host 'evil.example:\d+' is not an address of this server/);
    expect((await raw('GET', '/', { host: 'evil.example', ...cookie() })).status).toBe(403);
    expect((await raw('POST', '/api/app.info', { host: `localhost:${srv.port}`, 'content-type': 'application/json', ...bearer() }, '{}')).status).toBe(200);
    const ws = (host: string) =>
      new Promise<string>((resolve) => {
        const s = new WebSocket(`ws://127.0.0.1:${srv.port}/events`, { headers: { host, ...bearer(), origin: `http://${host}` } });
        s.on('open', () => (s.close(), resolve('open')));
        s.on('error', () => resolve('refused'));
        s.on('unexpected-response', () => resolve('refused'));
      });
    expect(await ws(`evil.example:${srv.port}`)).toBe('refused');
    expect(await ws(hostHeader)).toBe('open');
  });

  it('requires Content-Type: application/json on the API; a text/plain or form changeset is not applied', async () => {
    const rev = await revision();
    const cs = JSON.stringify({ changeset: { classes: { created: [{ id: 9, name: 'x', color: '#00ff00', hotkey: null, order: 1 }], updated: [], deleted: [] } } });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const r = await raw('POST', '/api/annotations.apply', { ...bearer(), ...(type ? { 'content-type': type } : {}) }, cs);
      expect(r.status, type).toBe(415);
      expect(r.json.error?.message).toMatch(/Content-Type: application\/json/);
    }
    expect(await revision()).toBe(rev);
    expect((await raw('POST', '/api/app.info', { ...bearer(), 'content-type': 'application/json; charset=utf-8' }, '{}')).status).toBe(200);
  });

  it('cookie-authenticated writes need a same-origin Origin (scheme included) or Sec-Fetch-Site', async () => {
    const post = (h: Record<string, string>) => raw('POST', '/api/app.info', { 'content-type': 'application/json', ...cookie(), ...h }, '{}');
    expect((await post({})).status).toBe(403);
    expect((await post({ origin: `https://${hostHeader}` })).status).toBe(403);
    expect((await post({ origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ origin })).status).toBe(200);
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // uploads too
    expect((await raw('POST', '/upload?batch=b&name=a.png', { ...cookie() }, 'x')).status).toBe(403);
    // a token in a header is not an ambient credential, but a cross-site Origin is still refused
    expect((await raw('POST', '/api/app.info', { 'content-type': 'application/json', ...bearer() }, '{}')).status).toBe(200);
    expect((await raw('POST', '/api/app.info', { 'content-type': 'application/json', ...bearer(), origin: 'http://evil.example' }, '{}')).status).toBe(403);
  });

  it('redirects after ?token= only to a normalised path on this origin', async () => {
    for (const [path, want] of [
      ['/.//evil.example/', '/evil.example/'],
      // the request target //evil.example/x is the path /x on this server
      ['//evil.example/x', '/x'],
      ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
      ['/a/../../b', '/b'],
      ['/', '/'],
    ]) {
      const r = await raw('GET', `${path}?token=${srv.token}&x=1`, {});
      expect(r.status, path).toBe(302);
      const loc = String(r.headers.location);
      expect(loc, path).toBe(`${want}?x=1`);
      expect(loc.startsWith('//') || loc.startsWith('/\\')).toBe(false);
    }
  });

  it('streams uploads to disk within the limits, refuses oversized ones leaving nothing, cleaned stale staging at start', async () => {
    expect(readdirSync(join(tmp, 'uploads', 'hst-studio-uploads')).filter((e) => e.startsWith('4194305-'))).toEqual([]);
    const big = Buffer.alloc(3.5 * 1024 * 1024, 7);
    const up = (batch: string, name: string, body: Buffer) => raw('POST', `/upload?batch=${batch}&name=${name}`, { ...bearer(), 'content-type': 'image/png' }, body);
    expect((await up('b1', 'a.png', big)).status).toBe(200);
    const root = readdirSync(join(tmp, 'uploads', 'hst-studio-uploads')).find((e) => e.startsWith(`${process.pid}-`))!;
    const staged = join(tmp, 'uploads', 'hst-studio-uploads', root, 'b1');
    expect(readFileSync(join(staged, 'a.png')).equals(big)).toBe(true);
    const over = await up('b1', 'huge.png', Buffer.alloc(5 * 1024 * 1024, 1));
    expect(over.status, over.body).toBe(413);
    expect(over.json.error?.message).toMatch(/limit/);
    const batchOver = await up('b1', 'second.png', big);
    expect(batchOver.status).toBe(413);
    expect(batchOver.json.error?.message).toMatch(/batch 'b1' exceeds the limit of 6291456 bytes/);
    expect(readdirSync(staged)).toEqual(['a.png']);
  });
});

describe('paths that used to hang the server', () => {
  it('project.create, project.open, export.run and imports on /proc, /sys or a file answer 400 within a second', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string, unknown, RegExp, string][] = [
      ['project.create', { dir: '/proc/self/hst' }, /proc pseudo filesystem/, 'dir'],
      ['project.create', { dir: '/sys/hst' }, /sys/, 'dir'],
      ['project.create', { dir: join(file, 'proj') }, /is a file, not a folder/, 'dir'],
      ['project.open', { dir: '/proc/self' }, /proc/, 'dir'],
      ['images.import', { paths: ['/proc/self'] }, /proc/, 'paths[0]'],
      ['images.import', { paths: ['/sys'] }, /sys/, 'paths[0]'],
      ['datasets.import', { path: '/proc/self/fd' }, /proc/, 'path'],
    ];
    for (const [m, body, msg, field] of cases) {
      const t0 = performance.now();
      const r = await api(m, body);
      expect(performance.now() - t0, m).toBeLessThan(1000);
      expect(r.status, `${m} ${JSON.stringify(body)}: ${r.body}`).toBe(400);
      expect(r.json.error?.message).toMatch(msg);
      expect(r.json.error?.field).toBe(field);
    }
    // the project is still the open one and the server answers
    expect((await api('project.info', {})).status).toBe(200);
  });
});

/** The id of one real 160×120 image in the project (imported once). */
let imported = 0;
async function imageId(): Promise<number> {
  if (imported) return imported;
  const sharp = (await import('sharp')).default;
  const img = join(tmp, 'img.png');
  await sharp({ create: { width: 160, height: 120, channels: 3, background: '#808080' } }).png().toFile(img);
  const { jobId } = (await api('images.import', { paths: [img] })).json as { jobId: string };
  expect(jobId).toBeTruthy();
  for (let i = 0; i < 200 && !imported; i++) {
    imported = ((await api('images.ids', {})).json as { ids: number[] }).ids[0] ?? 0;
    if (!imported) await new Promise((r) => setTimeout(r, 50));
  }
  return imported;
}

describe('domain refusals answer 4xx naming the field or id', () => {
  const ann = (id: string, extra: Record<string, unknown> = {}) => ({
    id, imageId: 1, classId: 1, geometry: { kind: 'box', x: 1, y: 1, w: 5, h: 5 }, createdAt: 1, updatedAt: 1, ...extra,
  });
  it('unknown ids 404, conflicts 409, bad encodings 400', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      ['annotations.apply', { changeset: { created: [ann('a1', { imageId: 4242 })] } }, 404, /image 4242/],
      ['annotations.apply', { changeset: { classes: { created: [{ id: 2, name: 'cat', color: '#00ff00', hotkey: null, order: 1 }], updated: [], deleted: [] } } }, 409, /class named 'cat' already exists/],
      ['annotations.apply', { changeset: { deleted: [ann('never')] } }, 409, /annotation never to be deleted does not exist/],
      ['annotations.apply', { changeset: { created: [ann('d1'), ann('d1')] } }, 400, /appears more than once/],
      ['images.setSplit', { ids: [31337], split: 'val' }, 404, /image 31337/],
      ['images.setStatus', { ids: [31337], status: 'reviewed' }, 404, /image 31337/],
      ['classes.delete', { classId: 777 }, 404, /class 777/],
      ['classes.merge', { fromId: 1, intoId: 1 }, 400, /itself/],
      ['project.open', { dir: tmp }, 404, /not an HST Studio project/],
      ['project.create', { dir: join(tmp, 'proj') }, 409, /already holds a project/],
      ['models.get', { id: 5 }, 404, /model version 5/],
      ['jobs.cancel', { jobId: 'nope' }, 404, /job nope/],
      ['train.start', { advanced: { backbone: '/etc/passwd' } }, 400, /installed backbone id or random/],
      ['train.plan', { advanced: { backbone: 'not-installed-anywhere' } }, 400, /not an installed backbone/],
    ];
    for (const [m, body, status, msg] of cases) {
      const r = await api(m, body);
      expect(r.status, `${m}: ${r.body}`).toBe(status);
      expect(r.json.error?.message, m).toMatch(msg);
    }
    // a class still in use, and a stale `before`
    const a = ann('in-use', { imageId: await imageId() });
    expect((await api('annotations.apply', { changeset: { created: [a] } })).status).toBe(200);
    const inUse = await api('annotations.apply', { changeset: { classes: { created: [], updated: [], deleted: [{ id: 1, name: 'cat', color: '#ff0000', hotkey: null, order: 0 }] } } });
    expect(inUse.status).toBe(409);
    expect(inUse.json.error?.message).toMatch(/class 'cat' cannot be deleted: 1 annotation still uses it/);
    const stale = await api('annotations.apply', { changeset: { updated: [{ before: { ...a, geometry: { kind: 'box', x: 2, y: 1, w: 5, h: 5 } }, after: a }] } });
    expect(stale.status).toBe(409);
    expect(stale.json.error?.message).toMatch(/annotation in-use .* has changed since/);
    const bad = await raw('POST', '/api/%E0%A4%A', { 'content-type': 'application/json', ...bearer() }, '{}');
    expect(bad.status).toBe(400);
    expect(bad.json.error?.field).toBe('method');
  });

  it('bad geometry is refused against its image (field named) or clipped, and the stored value is returned in the inverse', async () => {
    const bad: [unknown, string, RegExp][] = [
      [{ kind: 'mask', rle: { size: [1, 1], counts: 'hello world' } }, 'changeset.created[0].geometry.rle.size', /must be \[\d+, \d+\]/],
      [{ kind: 'box', x: -1e6, y: 0, w: 10, h: 10 }, 'changeset.created[0].geometry', /wholly outside/],
      [{ kind: 'box', x: 0, y: 0, w: 1e308, h: 10 }, 'changeset.created[0].geometry.w', /1000000/],
      [{ kind: 'box', x: 1, y: 1, w: 0, h: 0 }, 'changeset.created[0].geometry.w', /positive width/],
      [{ kind: 'polygon', rings: [[1, 1, 5, 5, 9, 1, 4]] }, 'changeset.created[0].geometry.rings[0]', /even count/],
    ];
    const id = await imageId();
    const rev = await revision();
    for (const [g, field, msg] of bad) {
      const r = await api('annotations.apply', { changeset: { created: [ann('g', { imageId: id, geometry: g })] } });
      expect(r.status, JSON.stringify(g)).toBe(400);
      expect(r.json.error?.field, JSON.stringify(g)).toBe(field);
      expect(r.json.error?.message).toMatch(msg);
    }
    expect(await revision()).toBe(rev);
    const r = await api('annotations.apply', { changeset: { created: [ann('clip', { imageId: id, geometry: { kind: 'box', x: 150, y: 100, w: 50, h: 50 } })] } });
    expect(r.status).toBe(200);
    const stored = { kind: 'box', x: 150, y: 100, w: 10, h: 20 };
    expect(((r.json as { inverse: { deleted: { geometry: unknown }[] } }).inverse.deleted[0].geometry)).toEqual(stored);
    const listed = (await api('annotations.list', { imageId: id })).json as { items: { id: string; geometry: unknown }[] };
    expect(listed.items.find((x) => x.id === 'clip')!.geometry).toEqual(stored);
  });
});
