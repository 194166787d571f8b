// `hst-studio predict` and `hst-studio eval` with a model trained on tiles: predictions per whole photo in its
// pixels, and whole-photo metrics against the photos' own labels.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../../../src-main/cli/commands/eval';
import { predict } from '../../../src-main/cli/commands/predict';
import { initCompute } from '../../../src-main/core/compute/engine';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import { buildTaskModel, saveTaskModel, type TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings } from '../../../src-main/core/task-model/task-model';

describe('hst-studio predict / eval on tiles', () => {
  let dir: string;
  let project: string;
  let weights: string;
  let nVal: number;
  let log: string[];

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-cli-tiles-'));
    project = join(dir, 'p');
    const store = await createDemoProject(project, { count: 4 }); // 160×160 photos, labelled, some in val
    nVal = store.toDataset().images.filter((im) => im.split === 'val').length;
    store.close();
    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1,
      hst: { img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4] },
      heads: defaultHeadSettings(['detect', 'instance'], 3, { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1, detStrides: [8, 16] }),
      classes: ['circle', 'triangle', 'square'], inputSize: 32, norm: VIT_AUGREG_NORM, backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 4,
      tiles: { size: 96, overlap: 32 },
    };
    const model = buildTaskModel(spec);
    weights = (await saveTaskModel(model, spec, join(dir, 'tiled.safetensors'))).weights;
    model.dispose();
    log = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  }, 60_000);
  afterAll(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('predict writes COCO results in whole-photo pixels', async () => {
    const out = join(dir, 'results.json');
    expect(await predict.run([project, '--model', weights, '--split', 'all', '--score', '0', '--out', out, '--backend', 'cpu'])).toBe(0);
    expect(log.join('\n')).toMatch(/trained on tiles of 96 px \(overlap 32\)/);
    expect(log.join('\n')).toMatch(/on 4 images/);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { bbox: number[]; segmentation?: { size: number[] } }[];
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.bbox[0] + r.bbox[2]).toBeLessThanOrEqual(160.01);
      if (r.segmentation) expect(r.segmentation.size).toEqual([160, 160]);
    }
    expect(results.some((r) => r.bbox[0] >= 96)).toBe(true); // only the right-hand tiles see there
  }, 30_000);

  it('eval scores merged whole-photo predictions on the val photos', async () => {
    log = [];
    expect(await evalCommand.run([project, '--model', weights, '--json', '--backend', 'cpu'])).toBe(0);
    const m = JSON.parse(log.join('\n'));
    expect(m.tiles).toEqual({ size: 96, overlap: 32 });
    expect(m.images).toBe(nVal);
    expect(m.bbox.stats).toHaveLength(12);
    log = [];
    expect(await evalCommand.run([project, '--model', weights, '--backend', 'cpu'])).toBe(0);
    expect(log[0]).toMatch(/predicted on tiles of 96 px \(overlap 32\) merged per photo/);
  }, 30_000);
});
