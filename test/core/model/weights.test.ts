// Checkpoints: official names and PyTorch layouts both ways; mismatched checkpoints are errors naming the tensor.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { f32Tensor, readSafetensors, serializeSafetensors } from '../../../src-main/core/io/safetensors';
import { HstModel } from '../../../src-main/core/model/hst';
import { exportState, loadHstCheckpoint, loadState, readConfigFile, saveHstCheckpoint } from '../../../src-main/core/model/weights';
import { fixturePath, readFixture } from './fixtures';
import { fixtureModel } from './parity-helper';

const dir = mkdtempSync(join(tmpdir(), 'hst-w-'));

describe('HST checkpoints', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  it('exports exactly the authors\' state_dict: same names, shapes, dtypes and bytes as the fixture', async () => {
    const ref = await readFixture('hst_tiny', 'weights.safetensors');
    const model = await fixtureModel();
    const mine = exportState(model);
    expect([...mine.keys()].sort()).toEqual([...ref.tensors.keys()].sort());
    for (const [n, t] of ref.tensors) {
      const m = mine.get(n)!;
      expect([m.dtype, m.shape], n).toEqual([t.dtype, t.shape]);
      expect(Buffer.from(m.data).equals(Buffer.from(t.data)), `${n} bytes`).toBe(true);
    }
    model.dispose();
  });

  it('save → load gives the same model (config sidecar + metadata)', async () => {
    const model = await fixtureModel();
    const p = join(dir, 'ck.safetensors');
    const paths = await saveHstCheckpoint(model, p);
    expect(paths.config).toBe(join(dir, 'ck.json'));
    const back = await loadHstCheckpoint(p);
    expect(back.backboneSource).toEqual({ kind: 'checkpoint', file: p });
    const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const a = model.forward(x).logits!;
    const b = back.forward(x).logits!;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    model.dispose();
    back.dispose();
  });

  it('keeps the random-backbone label through a checkpoint', async () => {
    const cfg = await readConfigFile(fixturePath('hst_tiny', 'config.json'));
    const m = new HstModel(cfg, { backbone: 'random', seed: 1 });
    const p = join(dir, 'rand.safetensors');
    await saveHstCheckpoint(m, p);
    const back = await loadHstCheckpoint(p);
    expect(back.backboneSource.kind).toBe('random');
    m.dispose();
    back.dispose();
  });

  it('refuses to run a model whose backbone was never loaded', async () => {
    const cfg = await readConfigFile(fixturePath('hst_tiny', 'config.json'));
    const m = new HstModel(cfg, { backbone: 'pending' });
    expect(() => m.forward(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D)).toThrow(/backbone has no weights/);
    expect(() => new HstModel(cfg, {} as never)).toThrow(/say where the backbone comes from/);
    m.dispose();
  });

  it('names the tensor for wrong shapes, missing and unknown names, and leaves the model untouched', async () => {
    const ref = await readFixture('hst_tiny', 'weights.safetensors');
    const model = await fixtureModel();
    const before = Float32Array.from(model.store.get('T_Bridge_1.weight').dataSync() as Float32Array);
    const wrong = new Map(ref.tensors);
    wrong.set('m_block2.1.attn.q.weight', f32Tensor(new Float32Array(16 * 8), [8, 16]));
    expect(() => loadState(model, wrong, { source: 'bad.safetensors' })).toThrow(/bad\.safetensors: tensor 'm_block2\.1\.attn\.q\.weight' has shape \[8, 16\], the model expects \[16, 16\]/);
    const missing = new Map(ref.tensors);
    missing.delete('m_proj_norm7.bias');
    expect(() => loadState(model, missing)).toThrow(/missing 1 tensor the model needs: m_proj_norm7\.bias/);
    const extra = new Map(ref.tensors);
    extra.set('m_block5.0.attn.q.weight', f32Tensor(new Float32Array(4), [2, 2]));
    expect(() => loadState(model, extra)).toThrow(/does not have.*m_block5\.0\.attn\.q\.weight/);
    const nan = new Map(ref.tensors);
    nan.set('head.bias', f32Tensor(new Float32Array([0, NaN, 0, 0, 0]), [5]));
    expect(() => loadState(model, nan)).toThrow(/'head\.bias' contains a non-finite value/);
    const ignorable = new Map(ref.tensors);
    ignorable.set('m_patch_embed1.conv.1.num_batches_tracked', { dtype: 'I64', shape: [], data: new Uint8Array(8) });
    expect(() => loadState(model, ignorable)).not.toThrow();
    expect(Array.from(model.store.get('T_Bridge_1.weight').dataSync())).toEqual(Array.from(before));
    model.dispose();
  });

  it('reports a checkpoint that does not fit the config, and a truncated file', async () => {
    const cfgPath = fixturePath('hst_tiny', 'config.json');
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ config: { img_size: 64, patch_size: 16, embed_dim: 48, depth: 12, num_heads: 4, num_classes: 5, m_embed_dims: [8, 16, 16, 32], m_c_num_heads: [2, 4, 4, 4] } }));
    await expect(loadHstCheckpoint(fixturePath('hst_tiny', 'weights.safetensors'), other)).rejects.toThrow(/tensor 'm_patch_embed4\.proj\.weight' has shape \[24, 16, 3, 3\], the model expects \[32, 16, 3, 3\]/);
    const file = await readSafetensors(fixturePath('hst_tiny', 'weights.safetensors'));
    const bytes = serializeSafetensors(file.tensors);
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    await expect(loadHstCheckpoint(cut, cfgPath)).rejects.toThrow(/tensor 'pos_embed'.*past the end.*truncated/);
  });

  it('validates configs with the field named', async () => {
    const p = join(dir, 'badcfg.json');
    writeFileSync(p, JSON.stringify({ config: { img_size: 64, patch_size: 16, embed_dim: 48, depth: 12, num_heads: 4, m_embed_dims: [8, 16, 16] } }));
    await expect(readConfigFile(p)).rejects.toThrow(/m_embed_dims/);
    writeFileSync(p, JSON.stringify({ img_size: 60, patch_size: 16 }));
    await expect(readConfigFile(p)).rejects.toThrow(/img_size 60 is not a multiple of patch_size 16/);
    writeFileSync(p, JSON.stringify({ depth: 12, m_depths: [3, 3, 3, 2] }));
    await expect(readConfigFile(p)).rejects.toThrow(/m_depths\[3\]=2/);
    writeFileSync(p, JSON.stringify({ depth: 12, img_sise: 3 }));
    await expect(readConfigFile(p)).rejects.toThrow(/img_sise|Unrecognized/);
  });
});
