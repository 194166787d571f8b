import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import type { ShapesDataset } from '../../../src-main/core/demo';
import { decodeMask } from '../../../src-main/core/geometry/rle';
import { readSafetensors } from '../../../src-main/core/io/safetensors';
import { createDataPipeline } from '../../../src-main/core/data';
import { VIT_AUGREG_NORM } from '../../../src-main/core/data/types';
import { evaluateModel, semanticGroundTruth } from '../../../src-main/core/eval/evaluate-model';
import { loadTaskModel, saveTaskModel } from '../../../src-main/core/task-model/model-spec';
import { parseTasks, semanticToOriginal } from '../../../src-main/core/task-model/task-model';
import { CLASSES, tinyModel, tinyShapes, tinySpec } from '../training/helpers';

const SIZE = 32;
let ds: ShapesDataset;

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
  ds = await tinyShapes(4, 48);
});

describe('TaskModel', () => {
  it('optimises the HST trainable set plus every head weight, never BN statistics or the frozen ViT', () => {
    const m = tinyModel(SIZE);
    const names = m.optimParams().map((p) => p.name);
    expect(names.some((n) => n.startsWith('heads.det.'))).toBe(true);
    expect(names.some((n) => n.startsWith('heads.mask.'))).toBe(true);
    expect(names.some((n) => n.startsWith('heads.sem.'))).toBe(true);
    expect(names.some((n) => n.includes('running_'))).toBe(false);
    expect(names).not.toContain('patch_embed.proj.weight');
    expect(names).not.toContain('blocks.0.attn.qkv.weight');
    expect(names).toContain('blocks.0.norm1.weight');
    expect(m.trainableParamCount()).toBe(m.optimParams().reduce((a, p) => a + p.variable.size, 0));
    m.dispose();
  });

  it('saves PyTorch-layout tensors (conv out,in,kh,kw) and loads them back exactly, keeping the random label', async () => {
    const m = tinyModel(SIZE);
    const dir = await mkdtemp(join(tmpdir(), 'tm-'));
    const file = join(dir, 'model.safetensors');
    await saveTaskModel(m, tinySpec(SIZE), file);
    const st = await readSafetensors(file);
    const conv = m.heads.params().find((p) => p.layout === 'conv' && p.variable.shape[0] === 3)!;
    const [kh, kw, cin, cout] = conv.variable.shape;
    expect(st.tensors.get(conv.name)!.shape).toEqual([cout, cin, kh, kw]);
    expect(st.tensors.has('patch_embed.proj.weight')).toBe(true);
    const { model: back, spec } = await loadTaskModel(file);
    expect(spec.classes).toEqual(CLASSES);
    expect(back.hst.backboneSource.kind).toBe('random');
    const a = new Map(m.heads.params().map((p) => [p.name, p.variable.dataSync()]));
    for (const p of back.heads.params()) expect(Array.from(p.variable.dataSync())).toEqual(Array.from(a.get(p.name)!));
    const va = m.hst.store.entries.get('blocks.0.attn.qkv.weight')!.variable.dataSync();
    expect(Array.from(back.hst.store.entries.get('blocks.0.attn.qkv.weight')!.variable.dataSync())).toEqual(Array.from(va));
    back.dispose();
    m.dispose();
  });

  it('predicts in original pixels: boxes inside the image, masks as RLE of the original size', async () => {
    const m = tinyModel(SIZE);
    const val = createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 0 });
    const s = await val.evalSample(0);
    const before = tf.memory().numTensors;
    const [p] = await m.predict([s], { scoreThreshold: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(p.objects!.length).toBeGreaterThan(0);
    for (const o of p.objects!) {
      expect(o.bbox[0]).toBeGreaterThanOrEqual(0);
      expect(o.bbox[0] + o.bbox[2]).toBeLessThanOrEqual(48 + 1e-3);
      expect(o.rle!.size).toEqual([48, 48]);
    }
    expect(p.semantic!.length).toBe(48 * 48);
    m.dispose();
  });

  it('evaluates on held-out images with every metric present', async () => {
    const m = tinyModel(SIZE);
    const val = createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 0 });
    const ev = await evaluateModel(m, ds, val, CLASSES);
    expect(ev.metrics.images).toBe(4);
    expect(ev.metrics.bbox!.stats).toHaveLength(12);
    expect(ev.metrics.segm!.stats).toHaveLength(12);
    expect(ev.metrics.semantic!.perClassIoU).toHaveLength(4);
    // only: ['detect'] — boxes alone (what an incremental update's promotion needs), same box AP
    const boxes = await evaluateModel(m, ds, val, CLASSES, { only: ['detect'] });
    expect(boxes.metrics.segm).toBeUndefined();
    expect(boxes.metrics.semantic).toBeUndefined();
    expect(boxes.predictions.every((p) => p.prediction.semantic === undefined && (p.prediction.objects ?? []).every((o) => o.rle === undefined))).toBe(true);
    expect(boxes.metrics.bbox!.AP50).toBeCloseTo(ev.metrics.bbox!.AP50, 6);
    m.dispose();
  });

  it('maps label maps back through the letterbox and builds semantic ground truth from masks', () => {
    // 4×2 image letterboxed into 4×4: scale 1, padY 1
    const t = { origW: 4, origH: 2, scale: 1, padX: 0, padY: 1, flipped: false };
    const map = Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9]);
    expect(Array.from(semanticToOriginal(map, 4, 4, t))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(semanticToOriginal(map, 4, 4, { ...t, flipped: true }))).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    const im = ds.images[0];
    const anns = ds.annotations.filter((a) => a.imageKey === im.key);
    const gt = semanticGroundTruth(anns, new Map(CLASSES.map((c, k) => [c, k])), 48, 48);
    const first = anns[0];
    if (first.geometry.kind !== 'mask') throw new Error('demo masks expected');
    const bits = decodeMask(first.geometry.rle);
    const labelled = [...bits.keys()].filter((i) => bits[i] && gt[i] !== 0);
    expect(labelled.length).toBeGreaterThan(0);
  });

  it('parses --tasks with clear errors', () => {
    expect(parseTasks('detect, semantic')).toEqual(['detect', 'semantic']);
    expect(() => parseTasks('detect,panoptic')).toThrow(/unknown task 'panoptic'/);
    expect(() => parseTasks('')).toThrow(/at least one/);
  });
});
