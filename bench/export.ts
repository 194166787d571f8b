// Model export: size on disk and wall time per format for realistic CPU-preset models (ViT-Ti/S + the "small"
// side network + the default CPU heads, 224 px), and the ONNX model's per-image forward under onnxruntime-node
// next to the studio's tfjs forward. Random weights (sizes and times do not depend on the values).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCompute, tf } from '../src-main/core/compute/engine';
import { exportModel, EXPORT_FORMATS, type ExportSource } from '../src-main/core/export/index';
import { presetConfig, type BackboneShape } from '../src-main/core/model/config';
import { configToJson } from '../src-main/core/model/weights';
import { createRandomHst } from '../src-main/core/model/hst';
import { VIT_AUGREG_NORM } from '../src-main/core/data/types';
import { defaultHeadSettings, TaskModel } from '../src-main/core/task-model/task-model';
import type { HstConfigInput } from '../src-main/core/model/config';
import type { BenchTable } from './types';

const SIZE = 224;

function source(shape: BackboneShape): ExportSource {
  const cfg = presetConfig(shape, 'small', { num_classes: 0 });
  const hst = createRandomHst(cfg, 1);
  hst.backboneSource = { kind: 'pretrained', name: `${shape}-bench`, sha256: '0'.repeat(64) };
  const heads = defaultHeadSettings(['detect', 'instance', 'semantic'], 3);
  const model = new TaskModel(hst, heads, 1);
  return {
    model,
    spec: { format: 'hst-studio-task-model', version: 1, hst: configToJson(cfg) as HstConfigInput, heads, classes: ['a', 'b', 'c'], inputSize: SIZE, norm: VIT_AUGREG_NORM, backbone: hst.backboneSource, seed: 1 },
  };
}

export async function run(): Promise<BenchTable> {
  const info = await initCompute();
  const rows: object[] = [];
  const notes: string[] = [`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores at the start (timings scale with it)`, `backend ${info.backend} (${info.threads} threads); input ${SIZE}², side preset "small", heads detect+instance+semantic (FPN 64, towers 2).`];
  let ort: typeof import('onnxruntime-node') | null = null;
  try {
    ort = createRequire(import.meta.url)('onnxruntime-node');
  } catch {
    notes.push('onnxruntime-node not installed: no ONNX timing.');
  }
  for (const shape of ['vit-tiny-16', 'vit-small-16'] as const) {
    const src = source(shape);
    const dir = mkdtempSync(join(tmpdir(), 'hst-bench-export-'));
    const counts = src.model.hst.paramCounts();
    try {
      for (const format of EXPORT_FORMATS) {
        const out = join(dir, format === 'adapter' || format === 'safetensors' ? `${format}.safetensors` : format);
        const t0 = performance.now();
        const r = await exportModel(src, format, out);
        rows.push({ model: shape, format, 'MB on disk': r.bytes / 1e6, 'export s': (performance.now() - t0) / 1000 });
      }
      const x = tf.randomUniform([1, SIZE, SIZE, 3], -1, 1) as tf.Tensor4D;
      const t0 = performance.now();
      for (let i = 0; i < 2; i++) tf.dispose(tf.tidy(() => src.model.hst.forward(x).stages));
      const tfMs = (performance.now() - t0) / 2;
      let ortMs: number | null = null;
      if (ort) {
        const s = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), { intraOpNumThreads: info.threads });
        const feeds = { image: new ort.Tensor('float32', Float32Array.from(x.dataSync() as Float32Array), [1, SIZE, SIZE, 3]) };
        await s.run(feeds);
        const t1 = performance.now();
        for (let i = 0; i < 3; i++) await s.run(feeds);
        ortMs = (performance.now() - t1) / 3;
      }
      x.dispose();
      notes.push(`${shape}: ${(counts.trainable / 1e6).toFixed(2)}M trainable HST params (+ heads) of ${((counts.trainable + counts.frozen) / 1e6).toFixed(1)}M; studio forward of the HST alone on ${info.backend}: ${tfMs.toFixed(0)} ms/img${ortMs === null ? '' : `; the exported ONNX model (HST + heads) on onnxruntime-node: ${ortMs.toFixed(0)} ms/img`}.`);
    } finally {
      src.model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { title: 'Model export: size and time per format', rows, notes };
}
