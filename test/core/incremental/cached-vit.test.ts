// Evaluation through the feature cache: the trainer's own predict() with the ViT pass read from the cache
// gives the on-the-fly predictions (up to float16 error), counts hits/misses, and leaves the model untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { FeatureCache } from '../../../src-main/core/features/feature-cache';
import { frozenParamsVersion } from '../../../src-main/core/features/frozen-version';
import { cachedPredictor } from '../../../src-main/core/incremental/cached-vit';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import type { SqliteProjectStore } from '../../../src-main/core/store/project';
import { createDataPipeline } from '../../../src-main/core/data/pipeline';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { buildTaskModel } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings, type TaskModel } from '../../../src-main/core/task-model/task-model';

describe('cachedPredictor', () => {
  let dir: string;
  let store: SqliteProjectStore;
  let model: TaskModel;

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-cv-'));
    store = await createDemoProject(join(dir, 'p'), { count: 3 });
    model = buildTaskModel({
      format: 'hst-studio-task-model', version: 1,
      hst: { img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] },
      heads: defaultHeadSettings(['detect'], 3, { fpnWidth: 8, towerDepth: 1 }),
      classes: ['circle', 'triangle', 'square'], inputSize: 32, norm: VIT_AUGREG_NORM,
      backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 2,
    });
  }, 60_000);
  afterAll(() => {
    model.dispose();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reproduces on-the-fly predictions from the cache', async () => {
    const ds = store.toDataset();
    const pipe = createDataPipeline({ dataset: ds, classes: { names: ['circle', 'triangle', 'square'] }, size: 32, norm: VIT_AUGREG_NORM, seed: 1, semantic: false });
    const samples = await Promise.all([0, 1, 2].map((i) => pipe.evalSample(i)));
    const hashOf = new Map(store.listImages().items.map((i) => [String(i.id), i.hash]));
    const cache = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: frozenParamsVersion(model.hst) });
    await cache.ensure(model.hst, samples.slice(0, 2).map((s) => ({ imageHash: hashOf.get(s.key)!, flipped: false, image: s.image, height: 32, width: 32 })));

    const ref = await model.predict(samples, { scoreThreshold: 0 , maxDetections: 20 });
    const view = cachedPredictor(model, cache, (k) => hashOf.get(k));
    const hit = await view.model.predict(samples.slice(0, 2), { scoreThreshold: 0, maxDetections: 20 });
    const miss = await view.model.predict(samples.slice(2), { scoreThreshold: 0, maxDetections: 20 });
    expect(view.hits()).toBe(2);
    expect(view.misses()).toBe(1);
    view.restore();
    expect(Object.prototype.hasOwnProperty.call(model.hst, 'vitForward')).toBe(false);

    for (const [i, p] of hit.entries()) {
      const a = ref[i].objects!.map((o) => o.score).sort();
      const b = p.objects!.map((o) => o.score).sort();
      expect(b.length).toBe(a.length);
      expect(a.length).toBeGreaterThan(0);
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k])).toBeLessThan(2e-3);
    }
    // the miss ran the real ViT: identical to the reference
    expect(miss[0].objects!.map((o) => o.score)).toEqual(ref[2].objects!.map((o) => o.score));
  }, 60_000);
});
