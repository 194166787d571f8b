// A tiny trained-looking task model on an installed (tiny, random) backbone, for the export tests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { BackboneManager } from '../../../src-main/core/backbones/manager';
import { buildHstWithBackbone } from '../../../src-main/core/backbones/use';
import { writeSafetensors } from '../../../src-main/core/io/safetensors';
import { resolveHstConfig, type HstConfigInput } from '../../../src-main/core/model/config';
import { createRandomHst } from '../../../src-main/core/model/hst';
import { configToJson, exportState } from '../../../src-main/core/model/weights';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import type { TaskModelSpec } from '../../../src-main/core/task-model/model-spec';
import { defaultHeadSettings, TaskModel, type TaskName } from '../../../src-main/core/task-model/task-model';
import type { ExportSource } from '../../../src-main/core/export/export-source';

export const BACKBONE_ID = 'tiny-vit-test';
export const INPUT = 64;

export const tinyConfig = () =>
  resolveHstConfig({ img_size: 32, patch_size: 8, embed_dim: 24, depth: 4, num_heads: 2, m_embed_dims: [8, 16, 16, 24], m_c_num_heads: [2, 2, 2, 2], num_classes: 0 });

export function tmp(prefix = 'hst-export-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function setup(): Promise<void> {
  await initCompute({ backend: 'cpu' });
}

/** Installs a random tiny ViT as backbone BACKBONE_ID in `dataDir`. */
export async function installBackbone(dataDir: string, seed = 3): Promise<BackboneManager> {
  const vit = createRandomHst(tinyConfig(), seed);
  const file = join(dataDir, 'vit-src.safetensors');
  await writeSafetensors(file, exportState(vit, (e) => e.backbone));
  vit.dispose();
  const m = new BackboneManager(dataDir);
  await m.import(file, { id: BACKBONE_ID, numHeads: 2 });
  return m;
}

/** Moves every parameter and buffer away from its init, as training would. */
function perturb(vars: tf.Variable[], seed: number): void {
  vars.forEach((v, i) => {
    tf.tidy(() => {
      const noise = tf.randomNormal(v.shape, 0, 0.05, 'float32', seed * 1000 + i);
      v.assign(v.name.includes('running_var') ? tf.add(tf.abs(noise), 0.5) : tf.add(v, noise));
    });
  });
}

export async function makeSource(manager: BackboneManager, tasks: TaskName[] = ['detect', 'instance', 'semantic', 'classify']): Promise<ExportSource> {
  const cfg = tinyConfig();
  const hst = await buildHstWithBackbone(cfg, BACKBONE_ID, manager, 1);
  const heads = defaultHeadSettings(tasks, 2, { fpnWidth: 16, towerDepth: 1, maskBranchDepth: 2 });
  const model = new TaskModel(hst, heads, 1);
  const trainable = [...hst.store.entries.values()].filter((e) => !e.backbone || e.variable.trainable).map((e) => e.variable);
  perturb([...trainable, ...model.heads.params().map((p) => p.variable)], 7);
  const spec: TaskModelSpec = {
    format: 'hst-studio-task-model', version: 1, hst: configToJson(cfg) as HstConfigInput, heads, classes: ['cat', 'dog'],
    inputSize: INPUT, norm: VIT_AUGREG_NORM, backbone: hst.backboneSource, seed: 1,
  };
  return { model, spec, metrics: { box_ap: 0.5 }, classes: [{ name: 'cat', color: '#ff0000' }, { name: 'dog', color: '#00ff00' }] };
}

export function inputBatch(b = 2, seed = 11, size = INPUT): tf.Tensor4D {
  return tf.randomUniform([b, size, size, 3], -1, 1, 'float32', seed) as tf.Tensor4D;
}

/** A task model on an explicitly random ViT (no backbone store), e.g. odd input sizes or a layer-scale ViT. */
export function makeRandomSource(config: HstConfigInput, inputSize: number, tasks: TaskName[] = ['detect', 'instance', 'semantic', 'classify']): ExportSource {
  const cfg = resolveHstConfig({ ...config, num_classes: 0 });
  const hst = createRandomHst(cfg, 4);
  const heads = defaultHeadSettings(tasks, 3, { fpnWidth: 16, towerDepth: 1, maskBranchDepth: 2 });
  const model = new TaskModel(hst, heads, 2);
  perturb([...hst.store.entries.values()].map((e) => e.variable).concat(model.heads.params().map((p) => p.variable)), 9);
  const spec: TaskModelSpec = {
    format: 'hst-studio-task-model', version: 1, hst: configToJson(cfg) as HstConfigInput, heads, classes: ['a', 'b', 'c'],
    inputSize, norm: VIT_AUGREG_NORM, backbone: hst.backboneSource, seed: 4,
  };
  return { model, spec };
}

export function maxRelErr(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
  return err / Math.max(scale, 1e-12);
}
