// The trainable set is exactly the authors' freeze_vit() rule; one optimizer step moves all of it and nothing else.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { presetConfig, resolveHstConfig } from '../../../src-main/core/model/config';
import { HstModel, createRandomHst } from '../../../src-main/core/model/hst';
import { isTrainableName } from '../../../src-main/core/model/trainable';

const tiny = {
  img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2, num_classes: 3,
  m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4],
};

describe('trainable set (spec §1.2)', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });

  it('follows the name rule of freeze_vit()', () => {
    for (const n of ['m_embeddings.3', 'blocks.7.norm1.weight', 'blocks.0.norm2.bias', 'T_Bridge_2.weight', 'm_proj_norm12.bias', 'head.weight', 'head.bias', 'm_patch_embed1.conv.1.weight', 'm_norm4.weight']) {
      expect(isTrainableName(n), n).toBe(true);
    }
    for (const n of ['patch_embed.proj.weight', 'cls_token', 'pos_embed', 'blocks.0.attn.qkv.weight', 'blocks.3.mlp.fc1.bias', 'norm.weight', 'norm.bias', 'm_patch_embed1.conv.1.running_mean', 'fc_norm.running_var']) {
      expect(isTrainableName(n), n).toBe(false);
    }
  });

  it('matches the spec parameter counts for ViT-B/16 (classification 0.772M with K=100; dense 10.40M)', () => {
    const cls = new HstModel(presetConfig('vit-base-16', 'classification', { num_classes: 100 }), { backbone: 'pending' });
    expect(cls.paramCounts().trainable).toBe(764_840 + 7_300);
    cls.dispose();
    const dense = new HstModel(presetConfig('vit-base-16', 'dense'), { backbone: 'pending' });
    expect(Math.round(dense.paramCounts().trainable / 1e4) / 100).toBe(10.4);
    dense.dispose();
  });

  it('one Adam step moves every trainable tensor and leaves every frozen one bit-identical', () => {
    const model = createRandomHst(resolveHstConfig({ ...tiny, drop_path_rate: 0 }), 7);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const snapshot = new Map([...model.store.entries.values()].map((e) => [e.name, Float32Array.from(e.variable.dataSync() as Float32Array)]));
    const trainable = model.trainableVariables();
    const opt = tf.train.adam(1e-2);
    opt.minimize(() => {
      const out = model.forward(x, { training: true });
      // touch every output so every trainable tensor receives a gradient
      return [tf.sum(tf.square(out.logits!)), ...out.stages.map((s) => tf.mean(tf.square(s)))].reduce((a, b) => tf.add(a, b)) as tf.Scalar;
    }, false, trainable);
    const names = new Set(trainable.map((v) => v.name));
    let moved = 0;
    for (const e of model.store.entries.values()) {
      const before = snapshot.get(e.name)!;
      const after = e.variable.dataSync() as Float32Array;
      const same = before.every((v, i) => Object.is(v, after[i]));
      if (e.buffer) continue; // BN running stats update in train mode (tested in layers.test.ts)
      if (names.has(e.variable.name) && /^m_block\d+\.\d+\.attn\.k\.bias$/.test(e.name)) {
        // A side block attends to 2 keys; their shared key bias adds the same q·b to both scores, which the
        // softmax cancels. Its gradient is exactly zero (float noise in PyTorch), so Adam leaves it in place.
        expect(same, `${e.name} has no effect on the output and must not move`).toBe(true);
        moved++;
      } else if (names.has(e.variable.name)) {
        expect(same, `${e.name} should have moved`).toBe(false);
        moved++;
      } else {
        expect(same, `${e.name} is frozen and must not change`).toBe(true);
      }
    }
    expect(moved).toBe(trainable.length);
    expect(moved).toBeGreaterThan(50);
    opt.dispose();
    model.dispose();
  });
});
