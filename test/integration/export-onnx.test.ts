// The ONNX export run by onnxruntime-node reproduces the studio's raw outputs (relative error < 1e-4).
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/core/compute/engine';
import { exportOnnx } from '../../src-main/core/export/onnx-export';
import { rawOutputs } from '../../src-main/core/export/runtime/raw-outputs';
import type { ExportSource } from '../../src-main/core/export/export-source';
import { inputBatch, installBackbone, makeRandomSource, makeSource, maxRelErr, setup, tmp } from '../core/export/helpers';

type Ort = typeof import('onnxruntime-node');
function loadOrt(): Ort {
  try {
    return createRequire(import.meta.url)('onnxruntime-node') as Ort;
  } catch (err) {
    throw new Error(`onnxruntime-node is not installed or does not load (${(err as Error).message}); install it with ONNXRUNTIME_NODE_INSTALL=skip npm install (it is an optional dependency)`);
  }
}

let dir: string;
let src: ExportSource;

beforeAll(async () => {
  await setup();
  dir = tmp('hst-onnx-');
  src = await makeSource(await installBackbone(dir));
});
afterAll(() => src?.model.dispose());

async function compare(ort: Ort, source: ExportSource, modelFile: string, x: tf.Tensor4D): Promise<Record<string, number>> {
  const session = await ort.InferenceSession.create(readFileSync(modelFile));
  const res = await session.run({ image: new ort.Tensor('float32', Float32Array.from(x.dataSync() as Float32Array), x.shape) });
  const ref = rawOutputs(source.model.hst, source.model.heads, x);
  expect([...session.outputNames].sort()).toEqual(Object.keys(ref).sort());
  const errs: Record<string, number> = {};
  for (const name of session.outputNames) {
    expect([...res[name].dims], name).toEqual(ref[name].shape);
    errs[name] = maxRelErr(res[name].data as Float32Array, ref[name].dataSync() as Float32Array);
  }
  tf.dispose(Object.values(ref));
  return errs;
}

describe('ONNX export', () => {
  it('odd grids (56 px, patch 8: stages 14/7/4/2, non-integer bridge resizes), a layer-scale ViT, resampled pos_embed', async () => {
    const ort = loadOrt();
    const odd = makeRandomSource({ img_size: 32, patch_size: 8, embed_dim: 24, depth: 4, num_heads: 2, layer_scale: true, m_embed_dims: [8, 16, 16, 24], m_c_num_heads: [2, 2, 2, 2] }, 56);
    try {
      const out = join(dir, 'onnx-odd');
      await exportOnnx(odd, out);
      const x = inputBatch(1, 21, 56);
      const errs = await compare(ort, odd, join(out, 'model.onnx'), x);
      x.dispose();
      console.log('ONNX export (odd sizes, layer scale): max relative error per output', errs);
      for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
    } finally {
      odd.model.dispose();
    }
  });

  it('onnxruntime-node reproduces the studio raw outputs (rel. error < 1e-4)', async () => {
    const ort = loadOrt();
    const out = join(dir, 'onnx1');
    await exportOnnx(src, out);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'metadata.json', 'model.onnx']);
    const session = await ort.InferenceSession.create(readFileSync(join(out, 'model.onnx')));
    const x = inputBatch(2, 9);
    const feeds = { image: new ort.Tensor('float32', Float32Array.from(x.dataSync() as Float32Array), x.shape) };
    const res = await session.run(feeds);
    const ref = rawOutputs(src.model.hst, src.model.heads, x);
    const errs: Record<string, number> = {};
    for (const name of session.outputNames) {
      const t = ref[name];
      expect(t, name).toBeDefined();
      expect([...res[name].dims], name).toEqual(t.shape);
      errs[name] = maxRelErr(res[name].data as Float32Array, t.dataSync() as Float32Array);
    }
    console.log('ONNX export: max relative error per output', errs);
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
    // the whole inference model: HST pyramid and every head's raw outputs
    expect([...session.outputNames].sort()).toEqual(Object.keys(ref).sort());
    tf.dispose([x, ...Object.values(ref)]);
    expect(existsSync(join(out, 'README.md'))).toBe(true);
  });
});
