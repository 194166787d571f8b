// IncrementalUpdater end to end on a tiny model and a small demo project: a fast update trains only the side
// network and heads from the feature cache and stores a new version; debouncing merges changes; a change
// during an update cancels it (weights restored) and restarts with the union; full mode trains MetaT/LNs too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { frozenParamsVersion } from '../../../src-main/core/features/frozen-version';
import { IncrementalUpdater, type UpdaterEvent } from '../../../src-main/core/incremental/updater';
import { promotionDecision } from '../../../src-main/core/incremental/main-metric';
import { resolveIncrementalSettings } from '../../../src-main/core/incremental/settings';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import type { SqliteProjectStore } from '../../../src-main/core/store/project';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { buildTaskModel, loadTaskModel, saveTaskModel, type TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings } from '../../../src-main/core/task-model/task-model';

const spec: TaskModelSpec = {
  format: 'hst-studio-task-model',
  version: 1,
  hst: { img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] },
  heads: defaultHeadSettings(['detect'], 3, { fpnWidth: 8, towerDepth: 1 }),
  classes: ['circle', 'triangle', 'square'],
  inputSize: 32,
  norm: VIT_AUGREG_NORM,
  backbone: { kind: 'random', label: 'random (untrained) backbone' },
  seed: 5,
};

describe('IncrementalUpdater', () => {
  let dir: string;
  let store: SqliteProjectStore;
  let baseId: number;
  let trainIds: number[];

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-inc-'));
    store = await createDemoProject(join(dir, 'p'), { count: 10 });
    const model = buildTaskModel(spec);
    const w = join(store.dir, 'models', 'base', 'model.safetensors');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(store.dir, 'models', 'base'), { recursive: true });
    await saveTaskModel(model, spec, w);
    model.dispose();
    baseId = store.addModelVersion({ name: 'base', task: 'detect', config: spec, datasetRevision: store.revision(), files: [relative(store.dir, w)], active: true }).id;
    trainIds = store.imageIds({ split: 'train' });
    expect(trainIds.length).toBeGreaterThan(3);
    expect(store.imageIds({ split: 'val' }).length).toBeGreaterThan(0);
  }, 60_000);
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fast mode: trains side + heads from the cache, keeps the frozen parameters, stores a version', async () => {
    const up = new IncrementalUpdater({ store, task: 'detect', settings: { debounceMs: 10, steps: 3, batchSize: 2, lr: 1e-3 } });
    const events: UpdaterEvent[] = [];
    up.on((e) => events.push(e));
    try {
      up.notifyChanged([trainIds[0]]);
      await up.idle();
      const done = events.find((e) => e.type === 'done');
      expect(done, JSON.stringify(events.filter((e) => e.type !== 'progress'))).toBeDefined();
      if (done?.type !== 'done') return;
      expect(events.map((e) => e.type).filter((t) => t !== 'progress')).toEqual(['scheduled', 'started', 'done']);
      expect(done.mode).toBe('fast');
      expect(done.parentVersionId).toBe(baseId);
      expect(done.newImages).toBe(1);
      expect(done.replayImages).toBeGreaterThan(0);
      expect(done.main.name).toBe('bbox.AP50');
      expect(events.filter((e) => e.type === 'progress' && e.phase === 'train').length).toBe(3);
      // the new image's two flips and the val images were cached
      const cached = store.featureCache.stats().entries;
      expect(cached).toBeGreaterThanOrEqual(2 + store.imageIds({ split: 'val' }).length);

      const v = store.getModelVersion(done.versionId)!;
      expect(v.parentId).toBe(baseId);
      expect(v.active).toBe(done.promoted);
      expect((v.metrics as { mode: string }).mode).toBe('fast');
      // the update evaluated its main metric's task only
      expect((v.metrics as { evaluated: string[] }).evaluated).toEqual(['detect']);
      const before = (await loadTaskModel(join(store.dir, store.getModelVersion(baseId)!.files[0]))).model;
      const after = (await loadTaskModel(join(store.dir, v.files[0]))).model;
      expect(frozenParamsVersion(after.hst)).toBe(frozenParamsVersion(before.hst));
      const diff = (name: string) => {
        const a = before.hst.store.get(name).dataSync();
        const b = after.hst.store.get(name).dataSync();
        let m = 0;
        for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
      };
      expect(diff('T_Bridge_1.weight')).toBeGreaterThan(0);
      expect(diff('blocks.0.norm1.weight')).toBe(0);
      expect(diff('m_embeddings.0')).toBe(0);
      before.dispose();
      after.dispose();
      if (done.promoted) store.setActiveModel(baseId); // leave the base active for the next tests
    } finally {
      up.dispose();
    }
  }, 120_000);

  it('prepareCache fills the cache for every labelled image once (train: both flips; val: plain)', async () => {
    const up = new IncrementalUpdater({ store, task: 'detect', settings: { steps: 1, batchSize: 2 } });
    try {
      const nTrain = store.imageIds({ split: 'train', status: 'labeled' }).length;
      const nVal = store.imageIds({ split: 'val', status: 'labeled' }).length;
      const already = store.featureCache.stats().entries;
      const computed = await up.prepareCache();
      expect(store.featureCache.stats().entries).toBe(2 * nTrain + nVal);
      expect(computed).toBe(2 * nTrain + nVal - already);
      expect(await up.prepareCache()).toBe(0);
      // the baseline is known: an update now spends (almost) nothing on the previous model's evaluation
      up.notifyChanged([trainIds[4]]);
      const r = await up.flush();
      expect(r?.type).toBe('done');
      if (r?.type === 'done') {
        expect(r.cacheComputed).toBe(0);
        expect(r.phaseMs.previousEval).toBeLessThan(r.phaseMs.eval);
      }
    } finally {
      up.dispose();
      store.setActiveModel(baseId);
    }
  }, 120_000);

  it('debounces: two quick changes make one update with both images', async () => {
    const up = new IncrementalUpdater({ store, task: 'detect', settings: { debounceMs: 80, steps: 1, batchSize: 2 } });
    const started: UpdaterEvent[] = [];
    up.on((e) => e.type === 'started' && started.push(e));
    try {
      up.notifyChanged([trainIds[1]]);
      up.notifyChanged([trainIds[2]]);
      await up.idle();
      expect(started.length).toBe(1);
      expect(started[0].type === 'started' && started[0].newImages).toBe(2);
    } finally {
      up.dispose();
      store.setActiveModel(baseId);
    }
  }, 120_000);

  it('a change during an update cancels it and restarts with the union', async () => {
    const up = new IncrementalUpdater({ store, task: 'detect', settings: { debounceMs: 0, steps: 6, batchSize: 2 } });
    const events: UpdaterEvent[] = [];
    let poked = false;
    up.on((e) => {
      events.push(e);
      if (e.type === 'progress' && e.phase === 'train' && e.done === 1 && !poked) {
        poked = true;
        up.notifyChanged([trainIds[3]]);
      }
    });
    const versionsBefore = store.listModelVersions('detect').length;
    try {
      up.notifyChanged([trainIds[0]]);
      await up.idle();
      const types = events.map((e) => e.type).filter((t) => t !== 'progress');
      expect(types).toContain('cancelled');
      const dones = events.filter((e) => e.type === 'done');
      expect(dones.length).toBe(1);
      const d = dones[0];
      if (d.type !== 'done') return;
      expect(d.newImages).toBe(2);
      expect(d.parentVersionId).toBe(baseId);
      expect(store.listModelVersions('detect').length).toBe(versionsBefore + 1);
    } finally {
      up.dispose();
      store.setActiveModel(baseId);
    }
  }, 120_000);

  it('full mode trains the whole trainable set; skips without an active model or training image; off switch', async () => {
    const up = new IncrementalUpdater({ store, task: 'detect', settings: { debounceMs: 0, steps: 1, batchSize: 2, mode: 'full' } });
    try {
      up.notifyChanged([trainIds[1]]);
      const r = await up.flush();
      expect(r?.type).toBe('done');
      if (r?.type === 'done') {
        expect(r.mode).toBe('full');
        const a = (await loadTaskModel(join(store.dir, store.getModelVersion(baseId)!.files[0]))).model;
        const b = (await loadTaskModel(join(store.dir, store.getModelVersion(r.versionId)!.files[0]))).model;
        expect(frozenParamsVersion(b.hst)).not.toBe(frozenParamsVersion(a.hst));
        a.dispose();
        b.dispose();
      }
      const valId = store.imageIds({ split: 'val' })[0];
      up.notifyChanged([valId]);
      expect(await up.flush()).toMatchObject({ type: 'skipped', reason: expect.stringMatching(/training image/) });
    } finally {
      up.dispose();
      store.setActiveModel(baseId);
    }
    const none = new IncrementalUpdater({ store, task: 'segment', settings: { debounceMs: 0 } });
    none.notifyChanged([trainIds[0]]);
    expect(await none.flush()).toMatchObject({ type: 'skipped', reason: expect.stringMatching(/Fine-tune first/) });
    none.dispose();
    const off = new IncrementalUpdater({ store, task: 'detect', settings: { enabled: false } });
    const seen: UpdaterEvent[] = [];
    off.on((e) => seen.push(e));
    off.notifyChanged([trainIds[0]]);
    expect(await off.flush()).toBeNull();
    expect(seen).toEqual([]);
    off.dispose();
  }, 120_000);

  it('promotion rule and settings validation', () => {
    expect(promotionDecision({ name: 'bbox.AP50', value: 0.5 }, { name: 'bbox.AP50', value: 0.503 }, 0.005).promoted).toBe(true);
    const worse = promotionDecision({ name: 'bbox.AP50', value: 0.4 }, { name: 'bbox.AP50', value: 0.5 }, 0.005);
    expect(worse.promoted).toBe(false);
    expect(worse.reason).toMatch(/dropped from 50.0 to 40.0.*candidate/);
    expect(promotionDecision({ name: 'bbox.AP50', value: null }, { name: 'bbox.AP50', value: 0.5 }, 0).promoted).toBe(true);
    expect(() => resolveIncrementalSettings({ steps: 0 })).toThrow(/steps must be an integer/);
    expect(resolveIncrementalSettings({ debounceMs: 300 }, { steps: 4 })).toMatchObject({ debounceMs: 300, steps: 4, enabled: true });
  });
});
