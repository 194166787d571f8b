// The predict job with a model trained on tiles: one merged list of suggestions per photo, in the photo's pixels.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { toBbox } from '../../../src-main/core/geometry/rle';
import { predictProject } from '../../../src-main/core/jobs/predict-job';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import { buildTaskModel, saveTaskModel, type TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings } from '../../../src-main/core/task-model/task-model';

describe('predict job on tiles', () => {
  let dir: string;
  let project: string;
  let imageIds: number[];
  const CLASSES = ['circle', 'triangle', 'square'];

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-pj-'));
    project = join(dir, 'p');
    const store = await createDemoProject(project, { count: 2 }); // 160×160 photos
    imageIds = store.listImages().items.map((i) => i.id).sort((a, b) => a - b);
    store.close();
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function saved(tiles: TaskModelSpec['tiles'], name: string): Promise<string> {
    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1,
      hst: { img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] },
      heads: defaultHeadSettings(['detect', 'instance'], CLASSES.length, { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1, detStrides: [8, 16] }),
      classes: CLASSES, inputSize: 32, norm: VIT_AUGREG_NORM, backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 4, tiles,
    };
    const model = buildTaskModel(spec);
    try {
      return (await saveTaskModel(model, spec, join(dir, `${name}.safetensors`))).weights;
    } finally {
      model.dispose();
    }
  }

  it('answers one list per photo, geometry in the photo frame, progress per photo', async () => {
    const weights = await saved({ size: 96, overlap: 32 }, 'tiled'); // 2×2 tiles of each 160×160 photo
    const progress: string[] = [];
    const r = await predictProject({ project, weights, split: 'all', scoreThreshold: 0 }, { progress: (_, m) => progress.push(m) });
    expect(r.cancelled).toBe(false);
    expect(r.total).toBe(2);
    expect(r.images.map((i) => i.imageId).sort((a, b) => a - b)).toEqual(imageIds);
    expect(progress).toEqual(['1/2 images (tiles of 96 px)', '2/2 images (tiles of 96 px)']);
    let right = 0;
    for (const im of r.images) {
      expect(im.preds.length).toBeGreaterThan(0);
      for (const p of im.preds) {
        const b = p.geometry.kind === 'mask' ? toBbox(p.geometry.rle) : p.geometry.kind === 'box' ? [p.geometry.x, p.geometry.y, p.geometry.w, p.geometry.h] : null;
        expect(b).not.toBeNull();
        if (p.geometry.kind === 'mask') expect(p.geometry.rle.size).toEqual([160, 160]);
        expect(b![0] + b![2]).toBeLessThanOrEqual(160 + 1e-3);
        expect(b![1] + b![3]).toBeLessThanOrEqual(160 + 1e-3);
        if (b![0] >= 96) right++; // only the right-hand tiles see there
      }
    }
    expect(right).toBeGreaterThan(0);

    // cancelled before the first photo: nothing predicted, reported as cancelled
    const ctl = new AbortController();
    ctl.abort();
    const c = await predictProject({ project, weights, split: 'all', scoreThreshold: 0 }, { signal: ctl.signal });
    expect(c).toMatchObject({ cancelled: true, total: 2, images: [] });
  }, 30_000);
});
