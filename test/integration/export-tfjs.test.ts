// The tfjs export, loaded in a FRESH Node process through its own inference.mjs, reproduces the studio's raw
// outputs and decoded predictions.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/core/compute/engine';
import { exportTfjs, SHARD_BYTES } from '../../src-main/core/export/tfjs-export';
import { rawOutputs } from '../../src-main/core/export/runtime/raw-outputs';
import type { ExportSource } from '../../src-main/core/export/export-source';
import { inputBatch, installBackbone, makeSource, maxRelErr, setup, tmp } from '../core/export/helpers';

let dir: string;
let src: ExportSource;

const CHILD = `
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync, writeFileSync } from 'node:fs';
const [dir, inFile, outFile, b, h, w] = process.argv.slice(2);
const { loadHstModel, tf } = await import(dir + '/inference.mjs');
await tf.setBackend('cpu');
const m = await loadHstModel(dir);
const buf = readFileSync(inFile);
const x = tf.tensor4d(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), [+b, +h, +w, 3]);
const raw = m.raw(x);
const out = { raw: {}, preds: [], meta: m.metadata };
for (const [k, t] of Object.entries(raw)) out.raw[k] = { shape: t.shape, data: Buffer.from(t.dataSync().buffer).toString('base64') };
const preds = await m.predict(x, { scoreThreshold: 0.01 });
out.preds = preds.map((p) => ({
  boxes: Array.from(p.detections?.boxes ?? []), scores: Array.from(p.detections?.scores ?? []), labels: Array.from(p.detections?.labels ?? []),
  masks: (p.masks ?? []).map((mk) => Buffer.from(mk).toString('base64')),
  semantic: p.semantic ? Buffer.from(p.semantic).toString('base64') : null, classProbs: p.classProbs ? Array.from(p.classProbs) : null,
}));
writeFileSync(outFile, JSON.stringify(out));
`;

beforeAll(async () => {
  await setup();
  dir = tmp('hst-tfjs-');
  // the exported module imports @tensorflow/tfjs-core: give the folder the studio's node_modules, as a user's install would
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const manager = await installBackbone(dir);
  src = await makeSource(manager);
});
afterAll(() => src?.model.dispose());

describe('tfjs export', () => {
  it('writes the manifest, ≤ 4 MB shards, metadata, a bundled inference module and a README', async () => {
    const out = join(dir, 'm1');
    const r = await exportTfjs(src, out);
    const files = readdirSync(out).sort();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'inference.mjs', 'metadata.json', 'model.json']));
    const mj = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const g = mj.weightsManifest[0];
    expect(g.paths.length).toBe(r.shards);
    for (const p of g.paths) expect(statSync(join(out, p)).size).toBeLessThanOrEqual(SHARD_BYTES);
    const total = g.paths.reduce((a: number, p: string) => a + statSync(join(out, p)).size, 0);
    const want = g.weights.reduce((a: number, w: { shape: number[] }) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
    expect(total).toBe(want);
    expect(g.weights.find((w: { name: string }) => w.name === 'blocks.0.attn.qkv.weight').shape).toEqual([24, 72]);
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    expect(meta.classes).toEqual([{ name: 'cat', color: '#ff0000' }, { name: 'dog', color: '#00ff00' }]);
    expect(meta.inputSize).toBe(64);
    expect(meta.norm.mean).toEqual([0.5, 0.5, 0.5]);
    expect(meta.tasks.sort()).toEqual(['classify', 'detect', 'instance', 'semantic']);
    expect(meta.backbone.id).toBe('tiny-vit-test');
    expect(meta.metrics).toEqual({ box_ap: 0.5 });
    const code = readFileSync(join(out, 'inference.mjs'), 'utf8');
    const imports = [...code.matchAll(/^import .* from ["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(imports.every((m) => m === '@tensorflow/tfjs-core')).toBe(true);
  });

  it('a fresh process running the export reproduces the studio outputs and predictions', async () => {
    const out = join(dir, 'm2');
    // small shards: tensors continue across shard boundaries, as in tfjs exports of big models
    const { shards } = await exportTfjs(src, out, {}, { shardBytes: 40_000 });
    expect(shards).toBeGreaterThan(3);
    const x = inputBatch(2, 5);
    const [b, h, w] = x.shape;
    writeFileSync(join(dir, 'in.bin'), Buffer.from((x.dataSync() as Float32Array).buffer));
    writeFileSync(join(dir, 'child.mjs'), CHILD);
    const res = spawnSync(process.execPath, [join(dir, 'child.mjs'), out, join(dir, 'in.bin'), join(dir, 'out.json'), String(b), String(h), String(w)], { encoding: 'utf8', timeout: 120_000 });
    expect(res.status, res.stderr).toBe(0);
    const got = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    const ref = rawOutputs(src.model.hst, src.model.heads, x);
    expect(Object.keys(got.raw).sort()).toEqual(Object.keys(ref).sort());
    const errs: Record<string, number> = {};
    for (const [k, t] of Object.entries(ref)) {
      expect(got.raw[k].shape, k).toEqual(t.shape);
      const d = Buffer.from(got.raw[k].data, 'base64');
      errs[k] = maxRelErr(new Float32Array(d.buffer, d.byteOffset, d.byteLength / 4), t.dataSync() as Float32Array);
      expect(errs[k], k).toBeLessThan(1e-5);
    }
    console.log('tfjs export: max relative error per output', errs);
    const stages = tf.tidy(() => src.model.hst.forward(x).stages);
    const preds = await src.model.heads.predict(stages, { imageSize: [h, w], scoreThreshold: 0.01, maxDetections: 100 });
    tf.dispose([...stages, x, ...Object.values(ref)]);
    preds.forEach((p, i) => {
      const g = got.preds[i];
      expect(g.labels).toEqual(Array.from(p.detections!.labels));
      expect(g.labels.length).toBeGreaterThan(0);
      g.scores.forEach((s: number, k: number) => expect(Math.abs(s - p.detections!.scores[k])).toBeLessThan(1e-5));
      g.boxes.forEach((v: number, k: number) => expect(Math.abs(v - p.detections!.boxes[k])).toBeLessThan(1e-3));
      expect(g.masks).toEqual(p.masks!.map((m) => Buffer.from(m).toString('base64')));
      expect(g.semantic).toEqual(Buffer.from(p.semantic!).toString('base64'));
      g.classProbs.forEach((v: number, k: number) => expect(Math.abs(v - p.classProbs![k])).toBeLessThan(1e-6));
    });
    expect(existsSync(join(out, 'README.md'))).toBe(true);
  });
});
