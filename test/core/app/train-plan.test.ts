// What the Fine-tune button plans per backend: on wasm/cpu fast mode takes 128 px, batch 8 and lr 4.2e-3 (the
// bench's fastest route to the demo's AP target), full mode keeps 160 px / batch 4; small projects fall back
// to smaller batches; the user's Advanced overrides win; steps follow the batch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainOverrides } from '../../../src-main/contract/api';
import { planTraining } from '../../../src-main/core/app/train-service';
import { initCompute } from '../../../src-main/core/compute/engine';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import type { SqliteProjectStore } from '../../../src-main/core/store/project';

let root: string;
let big: SqliteProjectStore;
let small: SqliteProjectStore;

beforeAll(async () => {
  await initCompute({ backend: 'wasm' });
  root = mkdtempSync(join(tmpdir(), 'hst-plan-'));
  big = await createDemoProject(join(root, 'big'), { count: 40 });
  small = await createDemoProject(join(root, 'small'), { count: 12 });
});
afterAll(() => {
  big?.close();
  small?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('fine-tune plan on wasm', () => {
  it('fast mode: 128 px, batch 8, lr 4.2e-3, FPN 32, lite side widths, 15 epochs of steps', async () => {
    const p = await planTraining(big, { backbone: 'random' });
    expect(p.trainImages).toBeGreaterThanOrEqual(16);
    expect(p).toMatchObject({ mode: 'fast', size: 128, batchSize: 8, lr: 4.2e-3, fpnWidth: 32, side: 'lite' });
    expect(p.steps).toBe(Math.ceil((30 * p.trainImages) / 8)); // < 50 train images: 30 epochs
  });

  it('full mode keeps 160 px and batch 4', async () => {
    const p = await planTraining(big, { backbone: 'random', mode: 'full' });
    expect(p).toMatchObject({ mode: 'full', size: 160, batchSize: 4, lr: 2e-3 });
    expect(p.side).toBeUndefined(); // the trainer's default, 'small'
  });

  it('fewer than 16 train images: batch 4 at 160 px', async () => {
    const p = await planTraining(small, { backbone: 'random' });
    expect(p.trainImages).toBeLessThan(16);
    expect(p).toMatchObject({ mode: 'fast', size: 160, batchSize: 4, lr: 3e-3 });
  });

  it('Advanced overrides win', async () => {
    const p = await planTraining(big, { backbone: 'random', size: 192, batchSize: 2, lr: 1e-3, steps: 77, side: 'small' });
    expect(p).toMatchObject({ size: 192, batchSize: 2, lr: 1e-3, steps: 77, side: 'small' });
    expect((await planTraining(small, { backbone: 'random', side: 'dense' })).side).toBe('dense');
  });

  it('the API contract takes only known side presets', () => {
    expect(TrainOverrides.safeParse({ side: 'lite' }).success).toBe(true);
    const bad = TrainOverrides.safeParse({ side: 'huge' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0].path).toEqual(['side']);
  });
});
