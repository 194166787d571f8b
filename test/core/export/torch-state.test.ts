import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { fromTorchValues, toTorchValues, torchState } from '../../../src-main/core/export/torch-state';
import type { ExportSource } from '../../../src-main/core/export/export-source';
import { makeRandomSource, setup } from './helpers';

let src: ExportSource;
beforeAll(async () => {
  await setup();
  src = makeRandomSource({ img_size: 32, patch_size: 8, embed_dim: 24, depth: 4, num_heads: 2, m_embed_dims: [8, 16, 16, 24], m_c_num_heads: [2, 2, 2, 2] }, 32);
});
afterAll(() => src?.model.dispose());

describe('torch-layout state in plain JS', () => {
  it('equals TaskModel.exportTensors byte for byte (names, shapes, values)', () => {
    const a = torchState(src.model);
    const b = src.model.exportTensors();
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, t] of b) {
      expect(a.get(k)!.shape, k).toEqual(t.shape);
      expect(Buffer.from(a.get(k)!.data).equals(Buffer.from(t.data)), k).toBe(true);
    }
  });

  it('conv and linear permutations match tf.transpose and invert exactly', () => {
    const conv = tf.randomNormal([3, 2, 4, 5]);
    const lin = tf.randomNormal([6, 7]);
    const cv = conv.dataSync() as Float32Array;
    const lv = lin.dataSync() as Float32Array;
    expect(Array.from(toTorchValues(cv, conv.shape, 'conv'))).toEqual(Array.from(tf.transpose(conv, [3, 2, 0, 1]).dataSync()));
    expect(Array.from(toTorchValues(lv, lin.shape, 'linear'))).toEqual(Array.from(tf.transpose(lin).dataSync()));
    expect(Array.from(fromTorchValues(toTorchValues(cv, conv.shape, 'conv'), conv.shape, 'conv'))).toEqual(Array.from(cv));
    expect(Array.from(fromTorchValues(toTorchValues(lv, lin.shape, 'linear'), lin.shape, 'linear'))).toEqual(Array.from(lv));
  });
});
