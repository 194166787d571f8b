// A fine-tune whose batches are split between gradient helper threads (what the studio does on wasm with 2+
// cores): the run says so, trains, evaluates with BatchNorm statistics gathered from the helpers, and
// saves a model — in fast mode (cached ViT) and in full mode (each helper runs the ViT itself).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { readSafetensors, toFloat32 } from '../../src-main/core/io/safetensors';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { trainProject, type TrainJobEvent } from '../../src-main/core/training/train-project';

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

const BASE = {
  backbone: 'random', side: 'classification' as const, size: 64, batchSize: 4, seed: 2, dataParallel: true,
  randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1 },
};

describe('data-parallel fine-tune', () => {
  for (const mode of ['fast', 'full'] as const) {
    it(`${mode} mode: splits each batch between the helpers and saves a trained model`, async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'hst-dp-')), 'p');
      (await createDemoProject(dir, { count: 10 })).close();
      const events: TrainJobEvent[] = [];
      const res = await trainProject({ ...BASE, project: dir, steps: 3, mode }, { onEvent: (e) => events.push(e) });
      expect(res.status).toBe('done');
      const phases = events.filter((e) => e.type === 'phase').map((e) => (e as { message: string }).message);
      expect(phases).toContain('data-parallel: each batch is split between 2 gradient helper threads (cpu, 1 thread each)');
      const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
      expect(warnings.filter((w) => /helper/.test(w))).toEqual([]);
      const losses = events.filter((e) => e.type === 'step').map((e) => (e as { loss: number }).loss);
      expect(losses).toHaveLength(3);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(res.metrics?.bbox).toBeDefined();
      // the saved BatchNorm statistics moved from their initial values: the helpers' updates reached the trainer
      const saved = await readSafetensors(join(res.modelDir, 'model.safetensors'));
      const mean = [...saved.tensors].find(([k]) => k.endsWith('running_mean'))!;
      expect(Math.max(...toFloat32(mean[1], mean[0]).map(Math.abs))).toBeGreaterThan(1e-4);
    }, 300_000);
  }
});
