// The training bundle's checks on the way back in (no python needed): a file whose frozen backbone changed, one
// for other classes, one without a task-model spec, and one with a tensor of the wrong shape are refused with a
// sentence naming the problem; the untouched start weights import as a version.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { importTrainedModel } from '../../../src-main/core/export/import-trained';
import { exportTrainingBundle, type TrainingBundleResult } from '../../../src-main/core/export/training-bundle';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors } from '../../../src-main/core/io/safetensors';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import { openProject } from '../../../src-main/core/store/project';

let dir: string;
let project: string;
let bundle: TrainingBundleResult;

beforeAll(async () => {
  await initCompute({});
  dir = mkdtempSync(join(tmpdir(), 'hst-bundle-'));
  project = join(dir, 'demo');
  (await createDemoProject(project, { count: 6 })).close();
  bundle = await exportTrainingBundle(project, join(dir, 'bundle'), { backbone: 'random', vitDepth: 4, size: 64, side: 'lite', steps: 7, batchSize: 3 });
}, 300_000);

async function variant(name: string, edit: (t: Map<string, ReturnType<typeof f32Tensor>>, meta: Record<string, string>) => void): Promise<string> {
  const f = await readSafetensors(join(bundle.out, 'weights.safetensors'));
  const tensors = new Map(f.tensors);
  const meta = { ...f.metadata };
  edit(tensors, meta);
  const p = join(dir, `${name}.safetensors`);
  await writeSafetensors(p, tensors, meta);
  return p;
}

describe('training bundle', () => {
  it('says what it holds and how to train it', () => {
    const spec = JSON.parse(readFileSync(join(bundle.out, 'spec.json'), 'utf8'));
    expect(spec.format).toBe('hst-studio-task-model');
    expect(spec.inputSize).toBe(64);
    expect(spec.hst.m_embed_dims).toEqual([24, 48, 64, 72]);
    expect(spec.sidePreset).toBe('lite');
    expect(spec.startedFrom).toEqual({ kind: 'backbone', id: 'random (untrained) backbone' });
    expect(JSON.parse(readFileSync(join(bundle.out, 'train.json'), 'utf8'))).toMatchObject({ steps: 7, batchSize: 3, lr: 0.002, beta2: 0.999, clipNorm: 1, emaDecay: 0.999 });
    expect(readFileSync(join(bundle.out, 'README.md'), 'utf8')).toContain('torchrun --redirects 1 --tee 1 --nproc_per_node 1 -m hst_trainer.train --steps 7 --out trained.safetensors');
  });

  it('refuses a changed backbone, other classes, a missing spec and a wrong shape; imports the untouched start', async () => {
    const changed = await variant('changed', (t) => {
      const v = toFloat32(t.get('blocks.0.attn.qkv.weight')!, 'w');
      v[0] += 1;
      t.set('blocks.0.attn.qkv.weight', f32Tensor(v, t.get('blocks.0.attn.qkv.weight')!.shape));
    });
    await expect(importTrainedModel(project, changed)).rejects.toThrow(/frozen ViT weights .* are not the exported backbone's/);
    const classes = await variant('classes', (_t, m) => {
      const s = JSON.parse(m.task_model);
      s.classes = ['x', 'y', 'z'];
      m.task_model = JSON.stringify(s);
    });
    await expect(importTrainedModel(project, classes)).rejects.toThrow(/trained on the classes \[x, y, z\]/);
    const nospec = await variant('nospec', (_t, m) => delete m.task_model);
    await expect(importTrainedModel(project, nospec)).rejects.toThrow(/no task_model metadata/);
    const shape = await variant('shape', (t) => t.set('heads.det.cls_logits.bias', f32Tensor(new Float32Array(5), [5])));
    await expect(importTrainedModel(project, shape)).rejects.toThrow(/heads\.det\.cls_logits\.bias/);
    const store = openProject(project);
    expect(store.listModelVersions()).toHaveLength(0); // nothing half-imported
    store.close();
    const ok = await importTrainedModel(project, join(bundle.out, 'weights.safetensors'));
    expect(ok.origin).toMatchObject({ trainer: 'external', file: 'weights.safetensors' });
    expect(ok.metrics).toHaveProperty('bbox.AP50');
  }, 300_000);
});
