// Fast fine-tune on a studio project: the ViT pass of every train image (plain + flipped) and val image lands in
// the project's feature cache, the side network + heads train from it, evaluations run during the run
// (evalEvery) and at the end, the model version records the mode, and the incremental updater afterwards
// finds every labelled image already cached (same cache keys), so label-by-label updates start at once.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { IncrementalUpdater } from '../../src-main/core/incremental/updater';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { openProject } from '../../src-main/core/store/project';
import { trainProject, type TrainJobEvent } from '../../src-main/core/training/train-project';

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

describe('fast fine-tune (cached ViT, side network + heads)', () => {
  it('caches, trains, evaluates on the way and leaves the cache ready for incremental updates', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hst-fastft-')), 'p');
    const store = await createDemoProject(dir, { count: 10 });
    // one train image loses its labels: unlabeled images are neither trained on (as "nothing here") nor cached
    const first = store.listImages().items.find((i) => i.split === 'train')!;
    store.apply({ deleted: store.annotationsOf(first.id) });
    const images = store.listImages().items.filter((i) => i.status !== 'unlabeled');
    expect(images.length).toBe(9);
    const nTrain = images.filter((i) => i.split === 'train').length;
    const nVal = images.filter((i) => i.split === 'val').length;
    expect(nVal).toBeGreaterThan(0);
    store.close();

    const events: TrainJobEvent[] = [];
    const res = await trainProject(
      {
        project: dir, backbone: 'random', side: 'classification', size: 64, steps: 4, batchSize: 2, seed: 2, mode: 'fast', evalEvery: 2,
        randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1 },
      },
      { onEvent: (e) => events.push(e) },
    );
    expect(res.status).toBe('done');
    const phases = events.filter((e) => e.type === 'phase').map((e) => (e as { message: string }).message);
    expect(phases.some((m) => new RegExp(`ViT features cached: ${2 * nTrain + nVal} computed`).test(m))).toBe(true);
    // one evaluation at step 2 (evalEvery), one at the end (step 4)
    expect(events.filter((e) => e.type === 'eval').map((e) => (e as { step?: number }).step)).toEqual([2, 4]);
    const start = events.find((e) => e.type === 'start') as { trainableParams: number };
    expect(start.trainableParams).toBe(res.trainableParams);
    expect((events.find((e) => e.type === 'start') as { images: number }).images).toBe(nTrain);

    const again = openProject(dir);
    const v = again.activeModel(res.modelVersion !== null ? again.getModelVersion(res.modelVersion)!.task : '')!;
    expect((v.config as { mode: string }).mode).toBe('fast');
    // a short fast run uses a second moment that forgets within the run
    expect((v.config as { train: { beta2: number } }).train.beta2).toBe(0.99);
    expect(again.featureCache.stats().entries).toBe(2 * nTrain + nVal);
    const updater = new IncrementalUpdater({ store: again, task: v.task });
    expect(await updater.prepareCache()).toBe(0); // nothing left to compute
    updater.dispose();
    again.close();
  }, 300_000);

  it('refuses to resume a full-mode checkpoint in fast mode', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hst-fastft-')), 'p');
    (await createDemoProject(dir, { count: 6 })).close();
    const o = { project: dir, backbone: 'random', side: 'classification' as const, size: 64, steps: 2, batchSize: 2, seed: 2, checkpointEvery: 1, randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1 } };
    const ctl = new AbortController();
    await trainProject({ ...o, mode: 'full' }, { signal: ctl.signal, onEvent: (e) => e.type === 'checkpoint' && ctl.abort() });
    await expect(trainProject({ ...o, mode: 'fast', resume: true })).rejects.toThrow(/trained in full mode, this run asks for fast mode/);
  }, 300_000);

  it('trains instance masks with a batch of one image', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hst-fastft-')), 'p');
    (await createDemoProject(dir, { count: 6 })).close();
    const res = await trainProject({
      project: dir, backbone: 'random', side: 'classification', size: 64, steps: 2, batchSize: 1, seed: 2, mode: 'fast', tasks: ['detect', 'instance'],
      randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1 },
    });
    expect(res.status).toBe('done');
    expect(res.metrics?.segm).toBeDefined();
  }, 300_000);
});
