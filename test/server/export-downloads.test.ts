// Export from the UI (issue 18): export.dataset without `out` zips the dataset for download; the zip served at
// /download/<id> re-imports into a fresh project with the same images, classes and boxes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../src-main/contract/api';
import type { StudioService } from '../../src-main/core/app/studio-service';
import type { RunningServer } from '../../src-main/server/http-server';
import { startRealServer, type RealServer } from './real-server';
import { readZip } from '../core/io/read-zip';

let tmp: string;
let srv: RunningServer;
let service: StudioService;
const auth = () => ({ authorization: `Bearer ${srv.token}` });

function done(jobId: string): Promise<EventPayload<'job.done'>> {
  return new Promise((resolve) => {
    const off = service.subscribe((e, p) => {
      if (e === 'job.done' && (p as { jobId: string }).jobId === jobId) (off(), resolve(p as EventPayload<'job.done'>));
    });
  });
}
async function run(method: string, input: unknown): Promise<EventPayload<'job.done'>> {
  const { jobId } = (await service.call(method, input)) as { jobId: string };
  return done(jobId);
}

let server: RealServer;
beforeAll(async () => {
  server = await startRealServer('hst-export-dl-');
  ({ tmp, service, srv } = server);
});
afterAll(async () => {
  await server?.close();
});

describe('dataset export as a download', () => {
  it('zips COCO, serves it as an attachment, and the zip re-imports with the same labels', async () => {
    const files = [];
    for (let i = 0; i < 3; i++) {
      const f = join(tmp, `p${i}.jpg`);
      await sharp({ create: { width: 200 + i, height: 100, channels: 3, background: `#${(i * 40 + 20).toString(16)}4080` } }).jpeg().toFile(f);
      files.push(f);
    }
    await service.call('project.create', { dir: join(tmp, 'src'), name: 'Source project' });
    expect((await run('images.import', { paths: files })).status).toBe('ok');
    const now = Date.now();
    const cls = { id: 1, name: 'cat', color: '#4f9dff', hotkey: null, order: 0 };
    const box = (id: string, imageId: number, x: number) => ({ id, imageId, classId: 1, geometry: { kind: 'box', x, y: 10, w: 30, h: 20 }, source: 'human', score: null, modelVersion: null, createdAt: now, updatedAt: now });
    await service.call('annotations.apply', { changeset: { created: [box('a', 1, 5), box('b', 2, 15), box('c', 2, 50)], classes: { created: [cls] } } });

    const progress: number[] = [];
    const off = service.subscribe((e, p) => e === 'job.progress' && progress.push((p as { fraction: number }).fraction));
    const end = await run('export.dataset', { format: 'coco' });
    off();
    expect(end.status, end.message).toBe('ok');
    expect(end.download).toBeDefined();
    expect(end.download!.name).toBe('Source project-coco.zip');
    expect(end.message).toMatch(/3 images, 3 annotations/);
    expect(progress.length).toBeGreaterThan(0);

    const res = await fetch(`${srv.url}download/${end.download!.id}`, { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toContain('attachment; filename="Source project-coco.zip"');
    const zipFile = join(tmp, 'dl.zip');
    writeFileSync(zipFile, Buffer.from(await res.arrayBuffer()));
    const entries = readZip(zipFile);
    expect([...entries.keys()].some((k) => k.startsWith('Source project-coco/'))).toBe(true);
    const out = join(tmp, 'unzipped');
    for (const [name, bytes] of entries) {
      mkdirSync(dirname(join(out, name)), { recursive: true });
      writeFileSync(join(out, name), bytes);
    }

    await service.call('project.create', { dir: join(tmp, 'again') });
    // COCO is read from its JSON (all three images are in the train split, so there is one)
    const json = [...entries.keys()].filter((k) => k.endsWith('.json'));
    expect(json).toHaveLength(1);
    const imp = await run('datasets.import', { path: join(out, json[0]) });
    expect(imp.status, imp.message).toBe('ok');
    const classes = (await service.call('classes.list', {})) as { classes: { name: string }[]; counts: Record<string, number> };
    expect(classes.classes.map((c) => c.name)).toEqual(['cat']);
    expect(Object.values(classes.counts).reduce((a, b) => a + b, 0)).toBe(3);
    const imgs = (await service.call('images.list', {})) as { total: number };
    expect(imgs.total).toBe(3);

    expect((await fetch(`${srv.url}download/${'0'.repeat(32)}`, { headers: auth() })).status).toBe(404);
    expect((await fetch(`${srv.url}download/${end.download!.id}`)).status).toBe(401); // behind the session token
  });

  it('writes to a server folder when `out` is given, and refuses a model download without a model', async () => {
    const end = await run('export.dataset', { format: 'yolo', out: join(tmp, 'yolo-out') });
    expect(end.status, end.message).toBe('ok');
    expect(end.download).toBeUndefined();
    await expect(service.call('export.modelDownload', { format: 'onnx' })).rejects.toThrow(/no trained model/);
  });
});
