import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDLE_CHECKPOINT_MS, WAL_BACKSTOP_PAGES } from '../../../src-main/core/store/db';
import type { LabelClass } from '../../../src-main/contract/schemas';
import type { SqliteProjectStore } from '../../../src-main/core/store/project';
import { openProject } from '../../../src-main/core/store/project';
import { box, projectWithImages, tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
let store: SqliteProjectStore;
let imgs: number[];
const cat: LabelClass = { id: 1, name: 'cat', color: '#ff0000', hotkey: null, order: 0 };
const dog: LabelClass = { id: 2, name: 'dog', color: '#00ff00', hotkey: null, order: 1 };

beforeEach(() => {
  t = tempDir();
  ({ store, imageIds: imgs } = projectWithImages(t.dir, 5));
  store.apply({ classes: { created: [cat, dog], updated: [], deleted: [] } });
});
afterEach(() => {
  store.close();
  t.cleanup();
});

describe('queries', () => {
  it('filters by status, split, class and predictions; sorts and pages; counts', () => {
    store.apply({ created: [box(imgs[0], 1), box(imgs[1], 2), box(imgs[1], 2)] });
    store.setSplit([imgs[3], imgs[4]], 'val');
    store.setStatus([imgs[4]], 'reviewed');
    const mv = store.addModelVersion({ name: 'v1', task: 'detect', config: {}, datasetRevision: store.revision() });
    store.putPredictions(imgs[2], mv.id, [{ classId: 1, geometry: { kind: 'box', x: 1, y: 2, w: 3, h: 4 }, score: 0.5 }]);
    // predictions on labelled val images (what the evaluation after a fine-tune stores) are not suggestions to review
    store.apply({ created: [box(imgs[3], 1)] });
    store.putPredictions(imgs[3], mv.id, [{ classId: 1, geometry: { kind: 'box', x: 1, y: 2, w: 3, h: 4 }, score: 0.9 }]);
    store.putPredictions(imgs[4], mv.id, [{ classId: 1, geometry: { kind: 'box', x: 1, y: 2, w: 3, h: 4 }, score: 0.9 }]);

    expect(store.listImages({ status: 'labeled' }).items.map((i) => i.id)).toEqual([imgs[0], imgs[1], imgs[3]]);
    expect(store.listImages({ status: 'predicted' }).items.map((i) => i.id)).toEqual([imgs[2]]);
    expect(store.listImages({ split: 'val' }).total).toBe(2);
    expect(store.imageIds({ classId: 2 })).toEqual([imgs[1]]);
    const page = store.listImages({ sort: 'fileName', offset: 1, limit: 2 });
    expect(page.total).toBe(5);
    expect(page.items.map((i) => i.fileName)).toEqual(['img 1.jpg', 'img 2.jpg']);
    expect(store.imageCounts()).toEqual({ all: 5, unlabeled: 1, labeled: 3, reviewed: 1, predicted: 1 });
    expect(store.classCounts()).toEqual({ 1: 2, 2: 2 });
    expect(() => store.setSplit([999], 'val')).toThrow(/image 999 is not in the project/);
    const rev = store.revision();
    store.setSplit([imgs[3]], 'val'); // already val: no change, no new revision
    expect(store.revision()).toBe(rev);
    store.setSplit([imgs[3]], 'test');
    expect(store.revision()).toBe(rev + 1);
    store.setSplit([imgs[3]], 'val');
    expect(store.listImages({ split: 'val' }).total).toBe(2);
  });

  it('keeps a media path inside the project', () => {
    store.db.prepare(`UPDATE images SET path = '../../etc/passwd' WHERE id = ?`).run(imgs[0]);
    expect(() => store.imagePath(imgs[0])).toThrow(/outside the project/);
  });

  it('checkpoints the WAL once writes pause, not inside an edit', () => {
    vi.useFakeTimers();
    const own = tempDir();
    const { store: s, imageIds } = projectWithImages(own.dir, 2); // its timers are the fake ones
    try {
      const spy = vi.spyOn(s, 'checkpoint');
      expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_BACKSTOP_PAGES);
      s.apply({ classes: { created: [cat], updated: [], deleted: [] } });
      s.apply({ created: [box(imageIds[0], 1)] });
      vi.advanceTimersByTime(IDLE_CHECKPOINT_MS - 100);
      s.apply({ created: [box(imageIds[1], 1)] }); // pushes the checkpoint back
      vi.advanceTimersByTime(IDLE_CHECKPOINT_MS - 100);
      expect(spy).not.toHaveBeenCalled();
      vi.advanceTimersByTime(200);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
      s.close();
      own.cleanup();
    }
  });

  it('persists across close and reopen', () => {
    const a = box(imgs[0], 1);
    store.apply({ created: [a] });
    store.setSettings({ theme: 'dark', autosave: true });
    store.setSettings({ autosave: null });
    const rev = store.revision();
    store.close();
    store = openProject(join(t.dir, 'p'));
    expect(store.revision()).toBe(rev);
    expect(store.annotationsOf(imgs[0])).toEqual([a]);
    expect(store.settings()).toEqual({ theme: 'dark' });
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});

describe('models, runs, predictions, feature cache', () => {
  it('records model versions with one active per task', () => {
    const a = store.addModelVersion({ name: 'a', task: 'detect', config: { lr: 1e-3 }, datasetRevision: 3, files: ['models/1/side.bin'], active: true });
    const b = store.addModelVersion({ name: 'b', task: 'detect', config: {}, datasetRevision: 5, parentId: a.id });
    const s = store.addModelVersion({ name: 's', task: 'segment', config: {}, datasetRevision: 5, active: true });
    expect(store.activeModel('detect')!.id).toBe(a.id);
    store.setActiveModel(b.id);
    expect(store.activeModel('detect')!.id).toBe(b.id);
    expect(store.activeModel('segment')!.id).toBe(s.id);
    expect(store.listModelVersions('detect').map((m) => [m.name, m.active])).toEqual([['a', false], ['b', true]]);
    expect(store.getModelVersion(a.id)).toMatchObject({ config: { lr: 1e-3 }, datasetRevision: 3, files: ['models/1/side.bin'], parentId: null });
    expect(store.updateModelVersion(b.id, { metrics: { mAP: 0.5 } }).metrics).toEqual({ mAP: 0.5 });
    expect(() => store.setActiveModel(999)).toThrow(/model version 999 does not exist/);
  });

  it('logs training runs and their events in order', () => {
    const run = store.addTrainingRun({ config: { epochs: 2 } });
    expect(run.status).toBe('running');
    const e1 = store.appendRunEvent(run.id, 'loss', { step: 1, loss: 0.9 });
    store.appendRunEvent(run.id, 'loss', { step: 2, loss: 0.7 });
    expect(store.runEvents(run.id).map((e) => e.data)).toEqual([{ step: 1, loss: 0.9 }, { step: 2, loss: 0.7 }]);
    expect(store.runEvents(run.id, e1)).toHaveLength(1);
    const mv = store.addModelVersion({ name: 'r', task: 'detect', config: {}, datasetRevision: 1 });
    const done = store.finishTrainingRun(run.id, { status: 'done', modelVersion: mv.id });
    expect(done).toMatchObject({ status: 'done', modelVersion: mv.id, error: null });
    expect(done.endedAt).not.toBeNull();
    expect(store.listTrainingRuns()).toHaveLength(1);
  });

  it('replaces predictions per image and model, best first; deleting the model drops them', () => {
    const mv = store.addModelVersion({ name: 'p', task: 'detect', config: {}, datasetRevision: 1 });
    const g = { kind: 'box' as const, x: 0, y: 0, w: 5, h: 5 };
    store.putPredictions(imgs[0], mv.id, [{ classId: 1, geometry: g, score: 0.2 }, { classId: 2, geometry: g, score: 0.8 }]);
    expect(store.listPredictions(imgs[0]).map((p) => p.score)).toEqual([0.8, 0.2]);
    store.putPredictions(imgs[0], mv.id, [{ classId: 1, geometry: g, score: 0.4 }]);
    expect(store.listPredictions(imgs[0], mv.id)).toMatchObject([{ classId: 1, score: 0.4, geometry: g, modelVersion: mv.id }]);
    expect(() => store.putPredictions(imgs[0], mv.id, [{ classId: 1, geometry: g, score: 2 }])).toThrow(/score 2 is not in \[0, 1\]/);
    expect(store.listPredictions(imgs[0])).toHaveLength(1);
    store.deleteModelVersion(mv.id);
    expect(store.getModelVersion(mv.id)).toBeNull();
    expect(store.listPredictions(imgs[0])).toEqual([]);
  });

  it('deletes predictions by id, keeping the other ids; refuses to delete the active model version', () => {
    const mv = store.addModelVersion({ name: 'q', task: 'detect', config: {}, datasetRevision: 1, active: true });
    const g = { kind: 'box' as const, x: 0, y: 0, w: 5, h: 5 };
    store.putPredictions(imgs[1], mv.id, [0.9, 0.6, 0.3].map((score) => ({ classId: 1, geometry: g, score })));
    const [hi, mid, lo] = store.listPredictions(imgs[1]);
    expect(store.deletePredictions([mid.id])).toBe(1);
    expect(store.listPredictions(imgs[1]).map((p) => p.id)).toEqual([hi.id, lo.id]);
    expect(() => store.deleteModelVersion(mv.id)).toThrow(/is active/);
    expect(() => store.deleteModelVersion(9999)).toThrow(/does not exist/);
  });

  it('indexes cached features and evicts least recently used entries with their files', () => {
    const fc = store.featureCache;
    const dir = join(store.dir, 'cache', 'features');
    mkdirSync(dir, { recursive: true });
    const key = (h: string) => ({ imageHash: h, backbone: 'vit-s', size: 224, paramsVersion: '1' });
    for (const h of ['a', 'b', 'c']) {
      writeFileSync(join(dir, `${h}.bin`), Buffer.alloc(100));
      fc.put({ ...key(h), path: `cache/features/${h}.bin`, bytes: 100 });
    }
    store.db.prepare('UPDATE feature_cache SET last_used = ? WHERE image_hash = ?').run(1, 'a');
    store.db.prepare('UPDATE feature_cache SET last_used = ? WHERE image_hash = ?').run(2, 'b');
    store.db.prepare('UPDATE feature_cache SET last_used = ? WHERE image_hash = ?').run(3, 'c');
    expect(fc.get(key('a'))!.path).toBe(join('cache', 'features', 'a.bin')); // touching 'a' makes 'b' the oldest
    expect(fc.get({ ...key('a'), size: 448 })).toBeNull();
    expect(fc.stats()).toEqual({ entries: 3, bytes: 300 });
    expect(fc.evict(150)).toEqual({ removed: 2, bytes: 200 });
    expect(fc.get(key('a'))).not.toBeNull();
    expect(fc.get(key('b'))).toBeNull();
    expect(existsSync(join(dir, 'b.bin'))).toBe(false);
    expect(existsSync(join(dir, 'a.bin'))).toBe(true);
    expect(() => fc.put({ ...key('z'), path: '../../outside.bin', bytes: 1 })).toThrow(/outside the project/);
  });
});
