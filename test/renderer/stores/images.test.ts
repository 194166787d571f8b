import type { ImageQuery, StudioApi } from '../../../src-main/contract/api';
import type { ImageRecord } from '../../../src-main/contract/schemas';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useImagesStore } from '../../../src-renderer/src/stores/images';
import { setTransport } from '../../../src-renderer/src/transport/current';

const record = (id: number, status: ImageRecord['status'] = 'unlabeled'): ImageRecord => ({
  id, hash: `h${id}`, fileName: `${id}.jpg`, path: `/x/${id}.jpg`, width: 64, height: 48, orientation: 1, split: 'train', status, addedAt: 0,
});

/** images.list over `n` records with offset/limit, each call recorded; `hold` pauses calls with an offset. */
function listTransport(n: number) {
  const calls: ImageQuery[] = [];
  let held: (() => void)[] | null = null;
  const all = Array.from({ length: n }, (_, i) => record(i + 1, i % 3 ? 'unlabeled' : 'labeled'));
  const api: Partial<StudioApi> = {
    'images.list': async (q) => {
      calls.push(q);
      if (held && q.offset) await new Promise<void>((r) => held!.push(r));
      const rows = q.status ? all.filter((r) => r.status === q.status) : all;
      const from = q.offset ?? 0;
      return { total: rows.length, items: rows.slice(from, from + (q.limit ?? 100)) };
    },
    'images.counts': async () => ({ all: n, unlabeled: 0, labeled: 0, reviewed: 0, predicted: 0 }),
  };
  setTransport({ kind: 'memory', api: api as StudioApi, on: () => () => undefined, imageUrl: (img) => `i/${img.id}`, thumbUrl: (img) => `t/${img.id}` });
  return {
    calls,
    hold: () => (held = []),
    release: async () => {
      const h = held ?? [];
      held = null;
      h.forEach((r) => r());
      await new Promise((r) => setTimeout(r, 0));
    },
    tick: () => new Promise((r) => setTimeout(r, 0)),
  };
}

beforeEach(() => setActivePinia(createPinia()));

describe('images store: the gallery list', () => {
  it('loads a first screenful, then the rest in chunks, one request at a time', async () => {
    const t = listTransport(2345);
    const images = useImagesStore();
    await images.reload();
    expect(t.calls.map((c) => [c.offset ?? 0, c.limit])).toEqual([[0, 200], [200, 1000], [1200, 1000], [2200, 1000]]);
    expect(images.items.map((i) => i.id)).toEqual(Array.from({ length: 2345 }, (_, i) => i + 1));
    expect(images.total).toBe(2345);
    expect(images.counts.all).toBe(2345);
    expect(images.loading).toBe(false);
  });

  it('shows the first page (sized for all) while the rest is on its way', async () => {
    const t = listTransport(1500);
    const images = useImagesStore();
    t.hold();
    const done = images.reload();
    await t.tick();
    expect(images.items).toHaveLength(200);
    expect(images.total).toBe(1500);
    expect(images.loading).toBe(true);
    await t.release();
    await done;
    expect(images.items).toHaveLength(1500);
  });

  it('keeps the full list on screen when the same query is reloaded', async () => {
    const t = listTransport(1500);
    const images = useImagesStore();
    await images.reload();
    t.hold();
    const again = images.reload();
    await t.tick();
    expect(images.items).toHaveLength(1500); // not shrunk to the first page
    await t.release();
    await again;
    expect(images.items).toHaveLength(1500);
  });

  it('lets a newer query win over a slower older one', async () => {
    const t = listTransport(1500);
    const images = useImagesStore();
    t.hold();
    const older = images.reload();
    await t.tick();
    images.status = 'labeled';
    const newer = images.reload();
    await t.release();
    await Promise.all([older, newer]);
    expect(images.items.every((i) => i.status === 'labeled')).toBe(true);
    expect(images.items).toHaveLength(500);
    expect(images.total).toBe(500);
  });
});
