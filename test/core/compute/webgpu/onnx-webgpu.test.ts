// Inference on the GPU: the studio's ONNX export run through onnxruntime's WebGPU execution provider gives what
// its CPU provider and the studio's own outputs give; the same export written from a model living on the webgpu
// backend (weights read back asynchronously) predicts the same; the feature cache's ONNX ViT pass matches
// between the two providers.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { exportModel } from '../../../../src-main/core/export';
import type { ExportSource } from '../../../../src-main/core/export/export-source';
import { rawOutputs } from '../../../../src-main/core/export/runtime/raw-outputs';
import { computeFeaturesAsync } from '../../../../src-main/core/features/feature-cache';
import { loadOnnxRuntime, OnnxVitPass } from '../../../../src-main/core/features/onnx-vit';
import { buildTaskModel } from '../../../../src-main/core/task-model/model-spec';
import type { TaskModel } from '../../../../src-main/core/task-model/task-model';
import { makeRandomSource, maxRelErr } from '../../export/helpers';
import { failInCiWithoutAdapter, maxRel, webgpuGate } from './webgpu-gate';

const gate = await webgpuGate();
const ort = loadOnnxRuntime();
const SIZE = 32;
const SLOW = 600_000;
type Outputs = Record<string, { dims: number[]; data: Float32Array }>;

async function runOnnx(file: string, provider: 'cpu' | 'webgpu', x: Float32Array, shape: number[]): Promise<Outputs> {
  const session = await ort!.InferenceSession.create(readFileSync(file), { executionProviders: [provider] });
  const res = await session.run({ image: new ort!.Tensor('float32', x, shape) });
  const out: Outputs = {};
  for (const name of session.outputNames) out[name] = { dims: [...res[name].dims], data: Float32Array.from(res[name].data as Float32Array) };
  await session.release();
  return out;
}

function image(seed: number, S = SIZE): { image: Float32Array; height: number; width: number } {
  const a = new Float32Array(S * S * 3);
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = (s / 2147483648) * 2 - 1;
  }
  return { image: a, height: S, width: S };
}

describe.skipIf(!gate.run || !ort)(`ONNX inference on WebGPU (${gate.reason}${ort ? '' : '; onnxruntime-node is not installed'})`, () => {
  let src: ExportSource;
  let file: string;
  let x: Float32Array;
  const shape: [number, number, number, number] = [2, SIZE, SIZE, 3];
  let ref: Record<string, Float32Array>;
  let state: ReturnType<TaskModel['exportTensors']>;
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    src = makeRandomSource({ img_size: SIZE, patch_size: 8, embed_dim: 24, depth: 4, num_heads: 2, m_embed_dims: [8, 16, 16, 24], m_c_num_heads: [2, 2, 2, 2] }, SIZE);
    const dir = mkdtempSync(join(tmpdir(), 'hst-onnx-webgpu-'));
    file = join((await exportModel(src, 'onnx', join(dir, 'cpu'))).path, 'model.onnx');
    const xt = tf.randomUniform(shape, -1, 1, 'float32', 11) as tf.Tensor4D;
    x = Float32Array.from(xt.dataSync() as Float32Array);
    const outs = rawOutputs(src.model.hst, src.model.heads, xt);
    ref = Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
    tf.dispose([xt, ...Object.values(outs)]);
    state = src.model.exportTensors();
  }, SLOW);

  it("runs the export through onnxruntime's WebGPU provider to the CPU provider's and the studio's outputs", async () => {
    const cpu = await runOnnx(file, 'cpu', x, shape);
    const gpu = await runOnnx(file, 'webgpu', x, shape);
    expect(Object.keys(gpu).sort()).toEqual(Object.keys(ref).sort());
    const errs: Record<string, number> = {};
    for (const [k, v] of Object.entries(gpu)) {
      expect(v.dims, k).toEqual(cpu[k].dims);
      errs[k] = Math.max(maxRelErr(v.data, cpu[k].data), maxRelErr(v.data, ref[k]));
    }
    console.log('ONNX export, WebGPU provider vs CPU provider / studio outputs: max relative error', errs);
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
  }, SLOW);

  it('exports from a model on the webgpu backend, predicting as the studio does on the cpu backend', async () => {
    await initCompute({ backend: 'webgpu' });
    const gpuModel = buildTaskModel(src.spec);
    gpuModel.importTensors(state, 'cpu model');
    const xt = tf.tensor4d(x, shape);
    const outs = rawOutputs(gpuModel.hst, gpuModel.heads, xt);
    const errs: Record<string, number> = {};
    for (const [k, t] of Object.entries(outs)) errs[k] = maxRel((await t.data()) as Float32Array, ref[k]);
    tf.dispose([xt, ...Object.values(outs)]);
    const dir = mkdtempSync(join(tmpdir(), 'hst-onnx-webgpu-'));
    const gpuFile = join((await exportModel({ ...src, model: gpuModel }, 'onnx', join(dir, 'gpu'))).path, 'model.onnx');
    const fromGpu = await runOnnx(gpuFile, 'cpu', x, shape);
    for (const [k, v] of Object.entries(fromGpu)) errs[`export:${k}`] = maxRelErr(v.data, ref[k]);
    console.log('webgpu model: raw outputs and its export vs the cpu backend', errs);
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
    gpuModel.dispose();
  }, SLOW);

  it("gives the feature cache's ViT pass through the WebGPU provider as through the CPU provider", async () => {
    const inputs = [image(1), image(2)];
    const cpu = await OnnxVitPass.create(src.model.hst, SIZE, 0, 'cpu');
    const gpu = await OnnxVitPass.create(src.model.hst, SIZE, 0, 'webgpu');
    expect(cpu).not.toBeNull();
    expect(gpu).not.toBeNull();
    const a = await cpu!.run(inputs);
    const b = await gpu!.run(inputs);
    for (let i = 0; i < inputs.length; i++) {
      expect(maxRel(b[i].meta, a[i].meta)).toBeLessThan(1e-4);
      expect(maxRel(b[i].patches, a[i].patches)).toBeLessThan(1e-4);
    }
    expect(maxRel(b[0].patches, b[1].patches)).toBeGreaterThan(1e-2);
    await cpu!.dispose();
    await gpu!.dispose();
  }, SLOW);

  it('fills the feature cache on webgpu at another input size, and builds the ONNX ViT pass from that model', async () => {
    await initCompute({ backend: 'webgpu' });
    const gpuModel = buildTaskModel(src.spec);
    gpuModel.importTensors(state, 'cpu model');
    // 48 px: pos_embed is resampled and cached on the GPU by the tfjs pass, then the ONNX builder reads it
    const inputs = [image(3, 48), image(4, 48)];
    const tfjs = await computeFeaturesAsync(gpuModel.hst, inputs);
    const pass = await OnnxVitPass.create(gpuModel.hst, 48, 0, 'cpu');
    expect(pass).not.toBeNull();
    const onnx = await pass!.run(inputs);
    for (let i = 0; i < inputs.length; i++) {
      expect(maxRel(tfjs[i].meta, onnx[i].meta)).toBeLessThan(1e-4);
      expect(maxRel(tfjs[i].patches, onnx[i].patches)).toBeLessThan(1e-4);
    }
    await pass!.dispose();
    gpuModel.dispose();
  }, SLOW);
});
failInCiWithoutAdapter(gate);
