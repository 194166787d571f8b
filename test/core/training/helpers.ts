// Tiny HST task models and shapes data for the training-engine tests (same architecture, toy sizes).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShapes, type ShapesDataset } from '../../../src-main/core/demo';
import { createDataPipeline, type DataPipeline } from '../../../src-main/core/data';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { buildTaskModel, type TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings, type TaskModel, type TaskName } from '../../../src-main/core/task-model/task-model';
import type { Trainer } from '../../../src-main/core/training/trainer';

export const CLASSES = ['circle', 'triangle', 'square'];

export async function tinyShapes(count: number, size: number, seed = 11): Promise<ShapesDataset> {
  const dir = mkdtempSync(join(tmpdir(), 'hst-train-'));
  return generateShapes({ count, size, seed, outDir: dir, objectsPerImage: [1, 3], scale: [0.2, 0.35], valFraction: 0.25 });
}

export function tinySpec(size: number, tasks: TaskName[] = ['detect', 'instance', 'semantic'], seed = 3): TaskModelSpec {
  return {
    format: 'hst-studio-task-model',
    version: 1,
    hst: { img_size: size, patch_size: 16, embed_dim: 32, depth: 4, num_heads: 2, m_embed_dims: [8, 16, 16, 16], m_c_num_heads: [1, 2, 2, 2] },
    heads: defaultHeadSettings(tasks, CLASSES.length, { fpnWidth: 8, towerDepth: 1, maskBranchDepth: 1, detStrides: [8, 16], semanticStrides: [8, 16] }),
    classes: CLASSES,
    inputSize: size,
    norm: VIT_AUGREG_NORM,
    backbone: { kind: 'random', label: 'random (untrained) backbone' },
    seed,
  };
}

export function tinyModel(size: number, tasks?: TaskName[]): TaskModel {
  return buildTaskModel(tinySpec(size, tasks));
}

export function trainPipeline(ds: ShapesDataset, size: number, seed = 1): DataPipeline {
  return createDataPipeline({
    dataset: ds, classes: { names: CLASSES }, size, norm: VIT_AUGREG_NORM, seed, split: 'train',
    augment: { hflip: 0.5, scaleJitter: [0.8, 1.2], colorJitter: 0.1 },
  });
}

/** Largest |got − want| / (|want| + 1e-3) over every named array: how far a resumed run is from the straight one. */
export function worstRelDiff(want: Map<string, Float32Array>, got: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, w] of want) {
    const g = got.get(name);
    if (!g || g.length !== w.length) return Infinity;
    for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]) / (Math.abs(w[i]) + 1e-3));
  }
  return worst;
}

/** Runs `trainer` until it has written its checkpoint at `step`, then stops there, as a crash right after it would. */
export async function runUntilCheckpoint(trainer: Trainer, step: number): Promise<void> {
  const ctl = new AbortController();
  await trainer.run({ signal: ctl.signal, onEvent: (e) => e.type === 'checkpoint' && e.step === step && ctl.abort() });
}
