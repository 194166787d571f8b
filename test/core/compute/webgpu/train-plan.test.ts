// What the Fine-tune button plans on a GPU (webgpu backend): the paper's full recipe at 224 px, batch 8 once the
// project has 16 train images (batch 4 below), fast mode still available on request.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTraining } from '../../../../src-main/core/app/train-service';
import { initCompute } from '../../../../src-main/core/compute/engine';
import { createDemoProject } from '../../../../src-main/core/store/create-demo';
import type { SqliteProjectStore } from '../../../../src-main/core/store/project';
import { failInCiWithoutAdapter, webgpuGate } from './webgpu-gate';

const gate = await webgpuGate();

describe.skipIf(!gate.run)(`fine-tune plan on webgpu (${gate.reason})`, () => {
  let root: string;
  let big: SqliteProjectStore;
  let small: SqliteProjectStore;
  beforeAll(async () => {
    expect((await initCompute({ backend: 'webgpu' })).backend).toBe('webgpu');
    root = mkdtempSync(join(tmpdir(), 'hst-plan-gpu-'));
    big = await createDemoProject(join(root, 'big'), { count: 40 });
    small = await createDemoProject(join(root, 'small'), { count: 12 });
  }, 300_000);
  afterAll(() => {
    big?.close();
    small?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('full recipe at 224 px, batch 8 with 16+ train images, batch 4 below', async () => {
    const p = await planTraining(big, { backbone: 'random' });
    expect(p.trainImages).toBeGreaterThanOrEqual(16);
    expect(p).toMatchObject({ mode: 'full', size: 224, batchSize: 8, lr: 2e-3 });
    expect(p.steps).toBe(Math.max(50, Math.ceil((30 * p.trainImages) / 8)));
    const s = await planTraining(small, { backbone: 'random' });
    expect(s).toMatchObject({ mode: 'full', size: 224, batchSize: 4 });
  });

  it('fast mode stays available', async () => {
    expect(await planTraining(big, { backbone: 'random', mode: 'fast' })).toMatchObject({ mode: 'fast', size: 224 });
  });
});
failInCiWithoutAdapter(gate);
