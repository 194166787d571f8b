// StudioService over the real SQLite store: the methods the UI relies on, end to end without a browser.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../src-main/contract/api';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';

let tmp: string;
let service: StudioService;
const events: { event: EventName; payload: unknown }[] = [];

function jobDone(jobId: string): Promise<EventPayload<'job.done'>> {
  return new Promise((resolve) => {
    const off = service.subscribe((event, payload) => {
      if (event === 'job.done' && (payload as EventPayload<'job.done'>).jobId === jobId) {
        off();
        resolve(payload as EventPayload<'job.done'>);
      }
    });
  });
}

const call = <T>(name: string, input: unknown) => service.call(name, input) as Promise<T>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-service-test-'));
  for (const [i, c] of ['#aa3333', '#33aa33'].entries())
    await sharp({ create: { width: 120 + i * 10, height: 90, channels: 3, background: c } }).jpeg().toFile(join(tmp, `img-${i}.jpg`));
  service = new StudioService({
    mode: 'server',
    stores: sqliteStores,
    doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'test', extraKernels: [], notes: [] }),
    recent: new RecentList(join(tmp, 'recent.json')),
    emit: (event, payload) => events.push({ event, payload }),
  });
});

afterAll(() => {
  service?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('StudioService with the SQLite store', () => {
  it('refuses project methods before a project is open, with a sentence', async () => {
    await expect(call('images.list', {})).rejects.toThrow(/no project is open/);
  });

  it('creates a project, imports images as a job with progress, and lists them', async () => {
    const info = await call<{ name: string; imageCount: number }>('project.create', { dir: join(tmp, 'proj'), name: 'Test' });
    expect(info).toMatchObject({ name: 'Test', imageCount: 0 });
    const { jobId } = await call<{ jobId: string }>('images.import', { paths: [join(tmp, 'img-0.jpg'), join(tmp, 'img-1.jpg'), join(tmp, 'missing.jpg')] });
    const done = await jobDone(jobId);
    expect(done.status).toBe('ok');
    expect(done.added).toBe(2);
    expect(done.skipped?.[0].path).toContain('missing.jpg');
    const ids = await call<{ ids: number[] }>('images.ids', {});
    expect(ids.ids).toHaveLength(2);
    const counts = await call<{ all: number; unlabeled: number }>('images.counts', {});
    expect(counts).toMatchObject({ all: 2, unlabeled: 2 });
    const recent = await call<{ recent: { name: string }[] }>('app.info', {});
    expect(recent.recent[0].name).toBe('Test');
  });

  it('applies changesets, deletes a class with its annotations and undoes that exactly', async () => {
    const { ids } = await call<{ ids: number[] }>('images.ids', {});
    const cls = { id: 1, name: 'cat', color: '#4f9dff', hotkey: null, order: 0 };
    await call('annotations.apply', { changeset: { classes: { created: [cls] } } });
    const now = Date.now();
    const box = { id: 'a-1', imageId: ids[0], classId: 1, geometry: { kind: 'box', x: 1, y: 2, w: 30, h: 20 }, createdAt: now, updatedAt: now };
    const applied = await call<{ revision: number; inverse: { deleted: { id: string }[] } }>('annotations.apply', { changeset: { created: [box] } });
    expect(applied.inverse.deleted.map((a) => a.id)).toEqual(['a-1']);
    expect(events.some((e) => e.event === 'project.changed')).toBe(true);
    expect((await call<{ counts: Record<string, number> }>('classes.list', {})).counts['1']).toBe(1);

    const del = await call<{ affected: number; inverse: unknown }>('classes.delete', { classId: 1 });
    expect(del.affected).toBe(1);
    expect((await call<{ classes: unknown[] }>('classes.list', {})).classes).toEqual([]);
    expect((await call<{ items: unknown[] }>('annotations.list', { imageId: ids[0] })).items).toEqual([]);

    await call('annotations.apply', { changeset: del.inverse });
    expect((await call<{ classes: { name: string }[] }>('classes.list', {})).classes.map((c) => c.name)).toEqual(['cat']);
    expect((await call<{ items: { id: string }[] }>('annotations.list', { imageId: ids[0] })).items.map((a) => a.id)).toEqual(['a-1']);
  });

  it('serves pyramid levels and thumbnails by id only', async () => {
    const { ids } = await call<{ ids: number[] }>('images.ids', {});
    const lvl = await service.imageLevel(ids[0]);
    expect(lvl.type).toBe('image/jpeg');
    const meta = await sharp((await service.thumbnail(ids[0], 64)).bytes).metadata();
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(64);
    await expect(service.imageLevel(9999)).rejects.toThrow(/does not exist/);
  });

  it('stages uploads under sanitised names and imports them', async () => {
    const bytes = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#123456' } }).png().toBuffer();
    await service.stageUpload('batch1', '../../etc/evil name.png', bytes);
    await service.stageUpload('batch1', 'evil name.png', bytes); // same name again: kept, not overwritten
    await expect(service.stageUpload('../x', 'a.png', bytes)).rejects.toThrow(/batch/);
    const { jobId } = { jobId: service.importStaged('batch1') };
    const done = await jobDone(jobId);
    expect(done.status).toBe('ok');
    expect((done.added ?? 0) + (done.skipped?.length ?? 0)).toBe(2); // identical bytes may be skipped as duplicates
    expect(readdirSync(tmpdir()).some((f) => f === 'evil name.png')).toBe(false);
    const names = (await call<{ items: { fileName: string }[] }>('images.list', {})).items.map((i) => i.fileName);
    expect(names.some((n) => n.endsWith('evil name.png') && !n.includes('batch1'))).toBe(true);
  });

  it('creates the demo project: the labelled shapes dataset, ready to fine-tune', async () => {
    const info = await call<{ imageCount: number }>('project.create', { dir: join(tmp, 'demo'), demo: true });
    expect(info.imageCount).toBe(200);
    const classes = (await call<{ classes: { name: string }[] }>('classes.list', {})).classes.map((c) => c.name).sort();
    expect(classes).toEqual(['circle', 'square', 'triangle']);
    const counts = await call<{ all: number; labeled: number }>('images.counts', {});
    expect(counts.labeled).toBe(counts.all);
    const first = (await call<{ items: { id: number }[] }>('images.list', { limit: 1 })).items[0];
    const anns = (await call<{ items: { geometry: { kind: string } }[] }>('annotations.list', { imageId: first.id })).items;
    expect(anns.length).toBeGreaterThan(0);
    expect(anns.every((a) => a.geometry.kind === 'mask')).toBe(true);
  }, 120_000);

  it('imports a COCO dataset as a job, and reports a broken one without importing anything', async () => {
    const coco = join(tmp, 'coco');
    mkdirSync(coco);
    copyFileSync(join(tmp, 'img-1.jpg'), join(coco, 'pic.jpg'));
    const ann = {
      images: [{ id: 1, file_name: 'pic.jpg', width: 130, height: 90 }],
      annotations: [{ id: 5, image_id: 1, category_id: 3, bbox: [10, 10, 40, 30], area: 1200, iscrowd: 0 }],
      categories: [{ id: 3, name: 'widget' }],
    };
    writeFileSync(join(coco, 'annotations.json'), JSON.stringify(ann));
    const before = (await call<{ all: number }>('images.counts', {})).all;
    const { jobId } = await call<{ jobId: string }>('datasets.import', { path: join(coco, 'annotations.json') });
    const done = await jobDone(jobId);
    expect(done.status, done.message).toBe('ok');
    expect(done.message).toMatch(/1 images, 1 annotations/);
    expect((await call<{ all: number }>('images.counts', {})).all).toBe(before + 1);
    expect((await call<{ classes: { name: string }[] }>('classes.list', {})).classes.map((c) => c.name)).toContain('widget');

    writeFileSync(join(coco, 'broken.json'), '{"images": [');
    const bad = await jobDone((await call<{ jobId: string }>('datasets.import', { path: join(coco, 'broken.json'), format: 'coco' })).jobId);
    expect(bad.status).toBe('error');
    expect(bad.message).toContain('broken.json');
    expect((await call<{ all: number }>('images.counts', {})).all).toBe(before + 1);
  });
});
