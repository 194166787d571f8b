// A model trained on tiles (spec.tiles) is kept up to date on the same tiles: an update trains on the changed
// photo's tiles (with replay of other photos' tiles), evaluates on val tiles, caches each tile under its own key
// (photo hash @ rectangle), counts photos (not tiles) as new/replayed, and the new version keeps the tiles.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { IncrementalUpdater, type UpdaterEvent } from '../../../src-main/core/incremental/updater';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import type { SqliteProjectStore } from '../../../src-main/core/store/project';
import { buildTaskModel, loadTaskModel, saveTaskModel, type TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings } from '../../../src-main/core/task-model/task-model';
import { tileCount } from '../../../src-main/core/training/tiles';

const TILES = { size: 64, overlap: 16 };
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
  tiles: TILES,
};

describe('IncrementalUpdater on a model trained on tiles', () => {
  let dir: string;
  let store: SqliteProjectStore;

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-inc-tiles-'));
    store = await createDemoProject(join(dir, 'p'), { count: 6 });
    const model = buildTaskModel(spec);
    mkdirSync(join(store.dir, 'models', 'base'), { recursive: true });
    const w = join(store.dir, 'models', 'base', 'model.safetensors');
    await saveTaskModel(model, spec, w);
    model.dispose();
    store.addModelVersion({ name: 'base', task: 'detect', config: { spec }, datasetRevision: store.revision(), files: [relative(store.dir, w)], active: true });
  }, 60_000);
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains the changed photo\'s tiles and caches every tile under its own key', async () => {
    const im = store.listImages().items;
    expect(im.every((i) => i.width === 160 && i.height === 160)).toBe(true);
    const perPhoto = tileCount(160, 160, TILES);
    expect(perPhoto).toBe(9);
    const train = im.filter((i) => i.split === 'train');
    const val = im.filter((i) => i.split === 'val');
    expect(val.length).toBeGreaterThan(0);
    const up = new IncrementalUpdater({ store, task: 'detect', settings: { debounceMs: 10, steps: 2, batchSize: 4, flips: true } });
    const events: UpdaterEvent[] = [];
    up.on((e) => events.push(e));
    try {
      up.notifyChanged([train[0].id]);
      const done = await up.flush();
      expect(done?.type, JSON.stringify(done)).toBe('done');
      if (done?.type !== 'done') return;
      expect(done.mode).toBe('fast');
      // photos, not tiles: one new photo; replay draws from the other train photos' tiles
      expect(done.newImages).toBe(1);
      expect(done.replayImages).toBeGreaterThan(0);
      expect(done.replayImages).toBeLessThan(train.length);
      // the val split is evaluated on its tiles: every val tile was cached once (unflipped)
      expect(store.featureCache.stats().entries).toBeGreaterThanOrEqual(val.length * perPhoto);
      const v = store.getModelVersion(done.versionId)!;
      expect(v.name).toMatch(/\+1 \(fast\)$/);
      const saved = await loadTaskModel(join(store.dir, v.files.find((f) => f.endsWith('.safetensors'))!));
      expect(saved.spec.tiles).toEqual(TILES);
      saved.model.dispose();
      // the warm-up fills the rest: every train tile plain + flipped, every val tile plain
      await up.prepareCache();
      expect(store.featureCache.stats().entries).toBe(train.length * perPhoto * 2 + val.length * perPhoto);
      const files = (readdirSync(join(store.dir, 'cache', 'features'), { recursive: true }) as string[]).filter((f) => f.endsWith('.safetensors'));
      expect(files).toHaveLength(train.length * perPhoto * 2 + val.length * perPhoto);
      expect(files.filter((f) => f.includes(`${train[0].hash}_48_96_64_64-`))).toHaveLength(2); // plain + flip of one tile
    } finally {
      up.dispose();
    }
  }, 60_000);
});
