// Fast mode of the Trainer (ViT pass from a source such as the feature cache): only the side network, bridges
// and heads move — the Meta Tokens, the ViT LayerNorms and the frozen backbone stay bit-identical — the loss
// goes down, the trainable count says so, and a run resumed from a fast-mode checkpoint reproduces the
// uninterrupted one (the optimizer state holds the fast set only).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import type { ShapesDataset } from '../../../src-main/core/demo';
import { computeFeatures, toVitOutput } from '../../../src-main/core/features/feature-cache';
import { isFrozenInFastMode } from '../../../src-main/core/features/frozen-version';
import { createDataPipeline } from '../../../src-main/core/data';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import type { TaskModel } from '../../../src-main/core/task-model/task-model';
import { latestCheckpoint, Trainer } from '../../../src-main/core/training/trainer';
import type { VitSource } from '../../../src-main/core/features/types';
import { CLASSES, runUntilCheckpoint, tinyModel, tinyShapes, worstRelDiff } from './helpers';

const SIZE = 32;
let ds: ShapesDataset;

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
  ds = await tinyShapes(8, SIZE);
});

const flipsOnly = () => createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 1, split: 'train', augment: { hflip: 0.5, scaleJitter: [1, 1], colorJitter: 0 } });

function sourceFor(model: TaskModel, calls: { n: number }): VitSource {
  return async (samples) => {
    calls.n++;
    return toVitOutput(computeFeatures(model.hst, samples));
  };
}

function snapshot(model: TaskModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const e of model.hst.store.entries.values()) out.set(e.name, Float32Array.from(e.variable.dataSync() as Float32Array));
  for (const p of model.heads.params()) out.set(p.name, Float32Array.from(p.variable.dataSync() as Float32Array));
  return out;
}

const OPTS = { steps: 6, batchSize: 2, lr: 3e-3, seed: 4, warmupSteps: 1, checkpointEvery: 3 };

describe('Trainer in fast mode', () => {
  it('trains the side network and heads only, from the ViT source', async () => {
    const model = tinyModel(SIZE);
    const calls = { n: 0 };
    const before = snapshot(model);
    const trainer = new Trainer(model, flipsOnly(), { ...OPTS, steps: 8 }, { vitSource: sourceFor(model, calls) });
    expect(trainer.mode).toBe('fast');
    expect(trainer.trainableParamCount).toBeLessThan(model.trainableParamCount());
    const losses: number[] = [];
    const r = await trainer.run({ onEvent: (e) => e.type === 'step' && losses.push(e.loss) });
    expect(r.status).toBe('done');
    expect(calls.n).toBe(8);
    const after = snapshot(model);
    let frozenSame = 0;
    let movedSide = 0;
    for (const e of model.hst.store.entries.values()) {
      const same = before.get(e.name)!.every((v, i) => v === after.get(e.name)![i]);
      if (isFrozenInFastMode(e)) {
        expect(same, `${e.name} is frozen in fast mode`).toBe(true);
        frozenSame++;
      } else if (!e.buffer && !same) movedSide++;
    }
    expect(frozenSame).toBeGreaterThan(10); // the ViT and every Meta Token
    expect(movedSide).toBeGreaterThan(10);
    const headMoved = model.heads.params().filter((p) => !p.buffer && !before.get(p.name)!.every((v, i) => v === after.get(p.name)![i])).length;
    expect(headMoved).toBeGreaterThan(5);
    expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]);
    trainer.dispose();
    model.dispose();
  }, 120_000);

  it('resumes a fast-mode run exactly', async () => {
    const straightModel = tinyModel(SIZE);
    const straight = new Trainer(straightModel, flipsOnly(), { ...OPTS, checkpointDir: await mkdtemp(join(tmpdir(), 'fck-a-')) }, { vitSource: sourceFor(straightModel, { n: 0 }) });
    await straight.run();
    const want = snapshot(straightModel);
    straight.dispose();
    straightModel.dispose();

    const dir = await mkdtemp(join(tmpdir(), 'fck-b-'));
    const halfModel = tinyModel(SIZE);
    const half = new Trainer(halfModel, flipsOnly(), { ...OPTS, checkpointDir: dir }, { vitSource: sourceFor(halfModel, { n: 0 }) });
    await runUntilCheckpoint(half, 3);
    half.dispose();
    halfModel.dispose();

    const model = tinyModel(SIZE);
    const resumed = new Trainer(model, flipsOnly(), { ...OPTS, checkpointDir: dir }, { vitSource: sourceFor(model, { n: 0 }) });
    await resumed.resume((await latestCheckpoint(dir))!);
    await resumed.run();
    const got = snapshot(model);
    expect(worstRelDiff(want, got)).toBeLessThan(1e-5);
    resumed.dispose();
    model.dispose();
  }, 180_000);
});
