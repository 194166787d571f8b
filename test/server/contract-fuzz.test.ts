// Property-based fuzz of the whole contract over HTTP (issue 21). For EVERY method of contract/api.ts:
//  - generated payloads that violate its schema (a field replaced by junk, a field dropped, a non-object root);
//  - payloads that pass the schema but break a domain rule (unknown ids, stale `before`, duplicate names, a class
//    in use, bad geometry against its image, paths on /proc or /sys, nothing to train/predict/export);
//  - huge and deep ones (a 10^6-point polygon, 10^5 rings, a 10 MB mask string, 10^5-deep JSON).
// Each must answer 4xx, quickly; afterwards the project's revision, rows and SQLite integrity are unchanged and
// the server still answers. The run prints how many cases it sent. numRuns is bounded so the file takes well
// under two minutes on a loaded 2-core machine (HST_FUZZ_RUNS scales it).
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methods, type MethodName } from '../../src-main/contract/api';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';
import type { SqliteProjectStore } from '../../src-main/core/store/project';
import { startServer, type RunningServer } from '../../src-main/server/http-server';

const RUNS = Math.max(1, Math.round(Number(process.env.HST_FUZZ_RUNS ?? 1) * 25));
/** answers to ordinary payloads; generous for a loaded shared machine, far below "hangs" */
const QUICK_MS = 2_000;
const HUGE_MS = 10_000;

let tmp: string;
let srv: RunningServer;
let service: StudioService;
let imageId = 0;
let sent = 0;
const perMethod = new Map<string, number>();

const W = 160;
const H = 120;
const cls = { id: 1, name: 'cat', color: '#ff0000', hotkey: null, order: 0 };
const cls2 = { id: 2, name: 'dog', color: '#00ff00', hotkey: null, order: 1 };
const ann = (id: string, extra: Record<string, unknown> = {}) => ({
  id, imageId, classId: 1, geometry: { kind: 'box', x: 10, y: 10, w: 20, h: 20 }, source: 'human', score: null, modelVersion: null,
  createdAt: 1, updatedAt: 1, ...extra,
});

/** One request on a fresh connection: a huge refused body closes its socket, which must not break the next call. */
function post(method: string, body: string): Promise<{ status: number; ms: number; text: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1', port: srv.port, method: 'POST', path: `/api/${method}`, agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${srv.token}`, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          sent++;
          perMethod.set(method.slice(0, 60), (perMethod.get(method.slice(0, 60)) ?? 0) + 1);
          resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    // the server may answer (413) and close before the whole body is sent: the answer is what counts
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end(body);
  });
}

/** Sends one payload that must be refused: 4xx within `limit` ms, with an error message. */
async function refused(method: string, payload: unknown, limit = QUICK_MS, raw?: string): Promise<void> {
  const r = await post(method, raw ?? JSON.stringify(payload));
  const what = `${method} ${(raw ?? JSON.stringify(payload) ?? 'undefined').slice(0, 300)} → ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, what).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.ms, what).toBeLessThan(limit);
  expect((JSON.parse(r.text) as { error?: { message?: string } }).error?.message, what).toBeTruthy();
}

function store(): SqliteProjectStore {
  return service.project as SqliteProjectStore;
}

/** What must not change: revision, rows, SQLite's own integrity check. */
function fingerprint() {
  const s = store();
  const n = (t: string) => (s.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  return {
    dir: s.dir,
    revision: s.revision(),
    annotations: n('annotations'),
    classes: n('classes'),
    images: n('images'),
    splits: JSON.stringify(s.db.prepare('SELECT id, split, status FROM images ORDER BY id').all()),
    geometry: JSON.stringify(s.db.prepare('SELECT id, geometry FROM annotations ORDER BY id').all()),
    integrity: s.db.pragma('integrity_check', { simple: true }),
    foreignKeys: (s.db.pragma('foreign_key_check') as unknown[]).length,
  };
}

// ---- valid examples: the bases mutations start from (never sent as they are) ----

const EXAMPLES: Record<MethodName, Record<string, unknown>> = {
  'app.doctor': {},
  'app.info': {},
  'project.create': { dir: '/tmp/x', name: 'n', demo: false },
  'project.open': { dir: '/tmp/x' },
  'project.close': {},
  'project.info': {},
  'images.list': { status: 'labeled', split: 'train', classId: 1, sort: 'id', offset: 0, limit: 10 },
  'images.ids': { status: 'labeled', split: 'train', classId: 1, sort: 'id' },
  'images.get': { id: 1 },
  'images.counts': {},
  'images.setSplit': { ids: [1], split: 'val' },
  'images.setStatus': { ids: [1], status: 'reviewed' },
  'images.import': { paths: ['/tmp/a.png'], mode: 'copy' },
  'datasets.import': { path: '/tmp/ds', format: 'coco' },
  'annotations.list': { imageId: 1 },
  'annotations.apply': {
    changeset: {
      created: [ann('a')], updated: [{ before: ann('b'), after: ann('b') }], deleted: [ann('c')],
      classes: { created: [cls2], updated: [{ before: cls, after: cls }], deleted: [] }, label: 'x',
    },
  },
  'classes.list': {},
  'classes.delete': { classId: 1 },
  'classes.merge': { fromId: 1, intoId: 2 },
  'train.plan': { advanced: { size: 128, steps: 10, batchSize: 2, lr: 0.001, backbone: 'random', preset: 'tiny', mode: 'fast', fpnWidth: 32, side: 'lite' } },
  'train.start': { advanced: { size: 128, steps: 10, batchSize: 2, lr: 0.001, backbone: 'random', preset: 'tiny', mode: 'fast' } },
  'train.cancel': {},
  'train.pause': {},
  'train.resume': {},
  'train.status': {},
  'models.list': {},
  'models.get': { id: 1 },
  'models.setActive': { id: 1 },
  'models.delete': { id: 1 },
  'models.compare': { a: 1, b: 2 },
  'predict.run': { split: 'unlabeled', scoreThreshold: 0.5 },
  'predictions.list': { imageId: 1 },
  'predictions.accept': { ids: [1] },
  'predictions.reject': { ids: [1] },
  'al.queue': { limit: 10 },
  'export.run': { format: 'onnx', out: '/tmp/out', version: 1 },
  'incremental.settings': { set: { enabled: true, steps: 10 } },
  'jobs.cancel': { jobId: 'x' },
  'tags.list': {},
  'backbones.list': {},
  'backbones.download': { id: 'vit-tiny-patch16-224' },
  'backbones.import': { path: '/tmp/b.safetensors', id: 'b' },
  'backbones.remove': { id: 'b' },
  'backbones.setDefault': { id: 'b' },
  'export.training': { out: '/tmp/bundle', version: 1 },
  'models.import': { path: '/tmp/m.safetensors' },
  'export.dataset': { format: 'coco', splits: ['train'], out: '/tmp/ds-out' },
  'export.modelDownload': { format: 'onnx', version: 1 },
  'jobs.get': { jobId: 'x' },
};

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = [], depth = 0): Path[] {
  if (depth > 6 || v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v as object)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(x, p, out, depth + 1);
  }
  return out;
}

function setPath(v: unknown, p: Path, value: unknown, drop = false): unknown {
  const root = structuredClone(v) as Record<string | number, unknown>;
  let cur = root;
  for (let i = 0; i < p.length - 1; i++) cur = cur[p[i]] as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (drop) {
    if (Array.isArray(cur) && typeof last === 'number') cur.splice(last, 1);
    else delete cur[last];
  } else cur[last] = value;
  return root;
}

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(null, -1, 0, 1.5, -1e308, 1e308, '', 'x'.repeat(5000), [], {}, true, '../../etc/passwd', '\u0000', '%E0%A4%A'),
  fc.double(),
  fc.integer(),
);

/** Payloads that fail the method's input schema (checked with the same schema the server uses). */
function schemaViolations(name: MethodName): fc.Arbitrary<unknown> {
  const base = EXAMPLES[name];
  const ps = paths(base);
  const options: fc.Arbitrary<unknown>[] = [fc.oneof(fc.array(junk, { maxLength: 3 }), fc.string(), fc.double(), fc.boolean())];
  if (ps.length) {
    options.push(fc.tuple(fc.constantFrom(...ps), junk).map(([p, j]) => setPath(base, p, j)));
    options.push(fc.constantFrom(...ps).map((p) => setPath(base, p, undefined, true)));
  }
  const schema = methods[name].input;
  // what goes over the wire is JSON: NaN becomes null, undefined keys vanish; the schema must fail on THAT
  return fc
    .oneof(...options)
    .filter((x) => x !== undefined)
    .map((x) => JSON.parse(JSON.stringify(x)) as unknown)
    .filter((x) => !schema.safeParse(x).success);
}

// ---- domain violations: pass the schema, break a rule of the project ----

const unknownId = fc.integer({ min: 100_000, max: 2_000_000_000 });
const outside = fc.oneof(
  fc.record({ kind: fc.constant('box'), x: fc.double({ min: -1e6, max: -1000, noNaN: true }), y: fc.double({ min: 0, max: 100, noNaN: true }), w: fc.double({ min: 1, max: 100, noNaN: true }), h: fc.double({ min: 1, max: 100, noNaN: true }) }),
  fc.record({ kind: fc.constant('box'), x: fc.double({ min: 0, max: 100, noNaN: true }), y: fc.double({ min: 0, max: 100, noNaN: true }), w: fc.constant(0), h: fc.double({ min: 0, max: 10, noNaN: true }) }),
  fc.record({ kind: fc.constant('polygon'), rings: fc.array(fc.array(fc.double({ min: 1000, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 8 }).map((r) => r.concat(r)), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('mask'), rle: fc.record({ size: fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 })).filter(([h, w]) => h !== H || w !== W), counts: fc.string({ maxLength: 30 }) }) }),
  fc.record({ kind: fc.constant('mask'), rle: fc.record({ size: fc.constant([H, W] as [number, number]), counts: fc.string({ minLength: 1, maxLength: 30 }) }) }),
);

function domainViolations(): Partial<Record<MethodName, fc.Arbitrary<unknown>>> {
  const live = () => store().annotationsOf(imageId)[0];
  return {
    'project.create': fc.constantFrom({ dir: store().dir }, { dir: '/proc/self/hst' }, { dir: '/sys/hst' }, { dir: join(tmp, 'a-file', 'p') }),
    'project.open': fc.constantFrom({ dir: tmp }, { dir: '/proc/self' }, { dir: join(tmp, 'a-file') }, { dir: join(tmp, 'missing') }),
    'images.get': unknownId.map((id) => ({ id })),
    'images.setSplit': fc.tuple(unknownId, fc.constantFrom('train', 'val', 'test')).map(([id, split]) => ({ ids: [imageId, id], split })),
    'images.setStatus': fc.tuple(unknownId, fc.constantFrom('unlabeled', 'labeled', 'reviewed')).map(([id, status]) => ({ ids: [imageId, id], status })),
    'images.import': fc.constantFrom({ paths: ['/proc/self'] }, { paths: ['/sys/kernel'] }, { paths: [join(tmp, 'missing.png')] }),
    'datasets.import': fc.constantFrom({ path: '/proc/self/fd' }, { path: '/sys' }, { path: join(tmp, 'missing') }),
    'annotations.apply': fc.oneof(
      unknownId.map((id) => ({ changeset: { created: [ann('u1', { imageId: id })] } })),
      unknownId.map((id) => ({ changeset: { created: [ann('u2', { classId: id })] } })),
      outside.map((g) => ({ changeset: { created: [ann('g1', { geometry: g })] } })),
      outside.map((g) => ({ changeset: { updated: [{ before: live(), after: { ...live(), geometry: g } }] } })),
      fc.double({ min: 0.5, max: 50, noNaN: true }).map((dx) => {
        const a = live();
        const g = a.geometry as { x: number };
        return { changeset: { updated: [{ before: { ...a, geometry: { ...a.geometry, x: g.x + dx } }, after: a }] } };
      }),
      fc.string({ minLength: 1, maxLength: 64 }).filter((id) => id !== live().id).map((id) => ({ changeset: { deleted: [ann(id)] } })),
      fc.constant(0).map(() => ({ changeset: { created: [ann('dup'), ann('dup')] } })),
      fc.constant(0).map(() => ({ changeset: { created: [live()] } })),
      fc.constant(0).map(() => ({ changeset: { classes: { created: [{ ...cls2, name: 'cat' }], updated: [], deleted: [] } } })),
      fc.constant(0).map(() => ({ changeset: { classes: { created: [], updated: [], deleted: [cls] } } })),
    ),
    'classes.delete': unknownId.map((classId) => ({ classId })),
    'classes.merge': fc.oneof(unknownId.map((fromId) => ({ fromId, intoId: 1 })), fc.constant({ fromId: 1, intoId: 1 })),
    'train.plan': fc.constantFrom('not-installed', 'vit-tiny-16-augreg-in21k', 'a.b-c').map((backbone) => ({ advanced: { backbone } })),
    'train.start': fc.constantFrom('not-installed', 'etc-passwd').map((backbone) => ({ advanced: { backbone } })),
    'train.cancel': fc.constant({}),
    'train.pause': fc.constant({}),
    'train.resume': fc.constant({}),
    'models.get': unknownId.map((id) => ({ id })),
    'models.setActive': unknownId.map((id) => ({ id })),
    'models.delete': unknownId.map((id) => ({ id })),
    'models.compare': unknownId.map((a) => ({ a, b: a + 1 })),
    'predict.run': fc.constant({}),
    'predictions.accept': unknownId.map((id) => ({ ids: [id] })),
    'predictions.reject': unknownId.map((id) => ({ ids: [id] })),
    'export.run': fc.constantFrom('tfjs', 'onnx', 'safetensors', 'adapter').map((format) => ({ format, out: join(tmp, 'export-out') })),
    'jobs.cancel': fc.uuid().map((jobId) => ({ jobId })),
  };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-fuzz-'));
  const web = join(tmp, 'web');
  mkdirSync(web);
  writeFileSync(join(web, 'index.html'), '<!doctype html>');
  writeFileSync(join(tmp, 'a-file'), 'x');
  const img = join(tmp, 'img.png');
  await sharp({ create: { width: W, height: H, channels: 3, background: '#808080' } }).png().toFile(img);
  service = new StudioService({
    mode: 'server',
    stores: sqliteStores,
    doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'x', extraKernels: [], notes: [] }),
    recent: new RecentList(join(tmp, 'recent.json')),
    uploadBase: tmp,
  });
  // no backbone is installed in this data dir: an explicit id must be refused, never looked up elsewhere
  process.env.HST_DATA_DIR = join(tmp, 'data');
  srv = await startServer({ service, staticDir: web, port: 0 });
  const s = sqliteStores.create(join(tmp, 'proj'), 'fuzz') as SqliteProjectStore;
  s.close();
  await service.call('project.open', { dir: join(tmp, 'proj') });
  const { jobId } = (await service.call('images.import', { paths: [img] })) as { jobId: string };
  expect(jobId).toBeTruthy();
  for (let i = 0; i < 200 && !imageId; i++) {
    imageId = store().imageIds()[0] ?? 0;
    if (!imageId) await new Promise((r) => setTimeout(r, 50));
  }
  await service.call('annotations.apply', { changeset: { classes: { created: [cls, cls2], updated: [], deleted: [] } } });
  await service.call('annotations.apply', { changeset: { created: [ann('kept-1'), ann('kept-2', { geometry: { kind: 'polygon', rings: [[10, 10, 50, 10, 30, 40]] } })] } });
}, 60_000);

afterAll(async () => {
  const total = [...perMethod.values()].reduce((a, b) => a + b, 0);
  console.log(`contract fuzz: ${total} refused requests over ${perMethod.size} methods (numRuns ${RUNS} per property)`);
  await srv?.close();
  service?.close();
  delete process.env.HST_DATA_DIR;
  rmSync(tmp, { recursive: true, force: true });
});

describe('contract fuzz', () => {
  it('every method refuses schema violations with a 4xx, quickly, changing nothing', async () => {
    const before = fingerprint();
    const start = sent;
    for (const name of Object.keys(methods) as MethodName[]) {
      await fc.assert(fc.asyncProperty(schemaViolations(name), (payload) => refused(name, payload)), { numRuns: RUNS });
    }
    expect(fingerprint()).toEqual(before);
    console.log(`contract fuzz: ${sent - start} schema violations over ${Object.keys(methods).length} methods`);
  }, 120_000);

  it('domain violations are 400/404/409 naming the problem, and change nothing', async () => {
    const before = fingerprint();
    const start = sent;
    const dom = domainViolations();
    for (const [name, arb] of Object.entries(dom) as [MethodName, fc.Arbitrary<unknown>][]) {
      await fc.assert(
        fc.asyncProperty(arb, async (payload) => {
          // a domain case passes the schema: it is the core that must refuse it
          expect(methods[name].input.safeParse(payload).success, `${name} ${JSON.stringify(payload).slice(0, 200)}`).toBe(true);
          await refused(name, payload);
        }),
        { numRuns: RUNS },
      );
    }
    expect(fingerprint()).toEqual(before);
    expect(store().dir).toBe(join(tmp, 'proj'));
    console.log(`contract fuzz: ${sent - start} domain violations over ${Object.keys(dom).length} methods`);
  }, 120_000);

  it('huge and deep payloads are refused within seconds and the server keeps answering meanwhile', async () => {
    const before = fingerprint();
    const ring = (n: number) => Array.from({ length: 2 * n }, (_, i) => (i % 4 < 2 ? 10 + (i % 7) : 50 + (i % 5)));
    const huge: [string, string, string][] = [
      ['a 10^6-point polygon (16 MB)', 'annotations.apply', JSON.stringify({ changeset: { created: [ann('p', { geometry: { kind: 'polygon', rings: [ring(1_000_000)] } })] } })],
      ['10^5 rings', 'annotations.apply', JSON.stringify({ changeset: { created: [ann('r', { geometry: { kind: 'polygon', rings: Array.from({ length: 100_000 }, () => [10, 10, 20, 10, 20, 20]) } })] } })],
      ['a 10 MB mask string', 'annotations.apply', JSON.stringify({ changeset: { created: [ann('m', { geometry: { kind: 'mask', rle: { size: [H, W], counts: '0'.repeat(10_000_000) } } })] } })],
      ['10^5-deep arrays', 'annotations.apply', '['.repeat(100_000) + ']'.repeat(100_000)],
      ['10^5-deep objects', 'images.list', '{"limit":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_001)],
      ['200,000 created annotations', 'annotations.apply', JSON.stringify({ changeset: { created: Array.from({ length: 200_000 }, (_, i) => ({ id: `x${i}` })) } })],
      ['a 1 MB method name', 'x'.repeat(1_000_000), '{}'],
      ['a 70 MB body', 'annotations.apply', JSON.stringify({ changeset: { label: 'x'.repeat(70 * 1024 * 1024) } })],
    ];
    for (const [what, method, body] of huge.filter(([w]) => !process.env.HST_FUZZ_ONLY || w.includes(process.env.HST_FUZZ_ONLY))) {
      // a cheap call during the big one must still be answered: the event loop is not held for long
      const big = post(method, body);
      const t0 = performance.now();
      const ping = await post('app.info', '{}');
      const pingMs = performance.now() - t0;
      expect(ping.status).toBe(200);
      const r = await big;
      console.log(`contract fuzz: ${what}: ${r.status} in ${Math.round(r.ms)} ms (a call beside it: ${Math.round(pingMs)} ms)`);
      expect(r.status, `${what}: ${r.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(r.status, what).toBeLessThan(500);
      expect(r.ms, what).toBeLessThan(HUGE_MS);
    }
    expect(fingerprint()).toEqual(before);
    // the server still answers normally
    const info = await post('app.info', '{}');
    expect(info.status).toBe(200);
  }, 120_000);
});
