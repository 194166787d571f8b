// A training job interrupted after a checkpoint and resumed with `resume: true` (what `hst-studio train
// --resume` does) ends with the same model as the same job run without interruption.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { generateShapes } from '../../src-main/core/demo';
import { readSafetensors, toFloat32 } from '../../src-main/core/io/safetensors';
import { trainProject, type TrainJobEvent, type TrainProjectOptions } from '../../src-main/core/training/train-project';
import { worstRelDiff } from '../core/training/helpers';

async function cocoFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hst-resume-'));
  await generateShapes({ count: 8, size: 64, seed: 4, outDir: dir, objectsPerImage: [1, 2], scale: [0.2, 0.3], valFraction: 0 }); // no val split: no evaluation, just training
  return dir;
}

const base = (project: string): TrainProjectOptions => ({
  project, backbone: 'random', side: 'classification', size: 64, steps: 4, batchSize: 2, seed: 2, checkpointEvery: 2,
  randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1 },
});

beforeAll(async () => {
  await initCompute({ backend: 'cpu' }); // deterministic kernels
});

describe('train --resume', () => {
  it('continues from the last checkpoint and matches the uninterrupted run', async () => {
    const straight = await trainProject(base(await cocoFolder()));
    expect(straight.status).toBe('done');

    const dir = await cocoFolder();
    const ctl = new AbortController();
    const first = await trainProject(base(dir), { signal: ctl.signal, onEvent: (e) => e.type === 'checkpoint' && e.step === 2 && ctl.abort() });
    expect(first.status).toBe('cancelled');
    expect(first.steps).toBe(2);

    const events: TrainJobEvent[] = [];
    const resumed = await trainProject({ ...base(dir), resume: true }, { onEvent: (e) => events.push(e) });
    expect(resumed.status).toBe('done');
    expect(events.find((e) => e.type === 'start')).toMatchObject({ step: 2, resumed: true });

    const a = await readSafetensors(join(straight.modelDir, 'model.safetensors'));
    const b = await readSafetensors(join(resumed.modelDir, 'model.safetensors'));
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    const floats = (m: typeof a.tensors) => new Map([...m].map(([name, t]) => [name, toFloat32(t, name)]));
    expect(worstRelDiff(floats(a.tensors), floats(b.tensors))).toBeLessThan(1e-5);
  }, 600_000);

  it('says so when there is nothing to resume', async () => {
    await expect(trainProject({ ...base(await cocoFolder()), resume: true })).rejects.toThrow(/--resume: no checkpoint under .*start without --resume/);
  }, 120_000);
});
