// HST learns: on a small synthetic shapes set (3 classes), detection + instance masks + semantic masks trained
// together from a random (explicitly untrained, ViT frozen) backbone reach the thresholds on HELD-OUT
// val images, scored in original pixels by the pycocotools-exact evaluator. The side network and the heads do
// the work; the ViT is the same HST architecture at a small size (depth 4, dim 96).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { generateShapes } from '../../src-main/core/demo';
import { createDataPipeline } from '../../src-main/core/data';
import { VIT_AUGREG_NORM } from '../../src-main/core/data/types';
import { evaluateModel } from '../../src-main/core/eval/evaluate-model';
import { buildTaskModel, type TaskModelSpec } from '../../src-main/core/task-model/model-spec';
import { defaultHeadSettings } from '../../src-main/core/task-model/task-model';
import { Trainer } from '../../src-main/core/training/trainer';

const SIZE = 96;
const CLASSES = ['circle', 'triangle', 'square'];

// ~1900 training images through a full HST forward/backward: ~3 min on an idle 2-core machine (wasm, 2 threads,
// 10 img/s). Measured with this recipe (480 steps, 188 s): held-out box AP50 0.909 (AP 0.527), mask AP50 0.897,
// mIoU 0.895; at 240 steps it was still below (0.60 / 0.61 / 0.71). HST_LEARNING=0 skips it for quick local runs
// (reported as skipped, never as passed); CI runs it.
const skip = process.env.HST_LEARNING === '0';

describe('learning (CPU, random backbone)', () => {
  it.skipIf(skip)('reaches box AP50 ≥ 0.7, mask AP50 ≥ 0.6 and mIoU ≥ 0.6 on held-out images', async () => {
    await initCompute();
    const ds = await generateShapes({ count: 110, size: SIZE, seed: 7, outDir: mkdtempSync(join(tmpdir(), 'learn-')), valFraction: 0.2, objectsPerImage: [1, 3], scale: [0.15, 0.32] });
    const train = createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 1, split: 'train', augment: { hflip: 0.5, scaleJitter: [0.85, 1.15], colorJitter: 0.1 } });
    const val = createDataPipeline({ dataset: ds, classes: { names: CLASSES }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 1, split: 'val' });
    expect(train.length).toBe(88);
    expect(val.length).toBe(22);
    const trainKeys = new Set(Array.from({ length: train.length }, (_, i) => train.image(i).key));
    for (let i = 0; i < val.length; i++) expect(trainKeys.has(val.image(i).key)).toBe(false);

    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1,
      hst: { img_size: SIZE, patch_size: 16, embed_dim: 96, depth: 4, num_heads: 3, m_embed_dims: [16, 32, 64, 96], m_c_num_heads: [1, 2, 4, 6] },
      heads: defaultHeadSettings(['detect', 'instance', 'semantic'], 3, { fpnWidth: 32, towerDepth: 2, detStrides: [8, 16, 32], maskStride: 8, maskBranchDepth: 2, semanticStrides: [4, 8, 16] }),
      classes: CLASSES, inputSize: SIZE, norm: VIT_AUGREG_NORM, backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 3,
    };
    const model = buildTaskModel(spec);
    expect(model.hst.backboneSource.kind).toBe('random');
    const trainer = new Trainer(model, train, { steps: 480, batchSize: 4, lr: 3e-3, seed: 5, warmupSteps: 20 });
    const res = await trainer.run({ onEvent: (e) => e.type === 'step' && e.step % 40 === 0 && console.log(`step ${e.step} loss ${e.loss.toFixed(3)} ${e.imagesPerSec.toFixed(2)} img/s`) });
    expect(res.status).toBe('done');
    const ev = await evaluateModel(model, ds, val, CLASSES, { keepPredictions: false });
    const m = ev.metrics;
    console.log(`held-out: box AP50 ${m.bbox!.AP50.toFixed(3)} (AP ${m.bbox!.AP.toFixed(3)}), mask AP50 ${m.segm!.AP50.toFixed(3)}, mIoU ${m.semantic!.mIoU!.toFixed(3)}; ${res.seconds.toFixed(0)} s training`);
    expect(m.bbox!.AP50).toBeGreaterThanOrEqual(0.7);
    expect(m.segm!.AP50).toBeGreaterThanOrEqual(0.6);
    expect(m.semantic!.mIoU!).toBeGreaterThanOrEqual(0.6);
    trainer.dispose();
    model.dispose();
  }, 3_600_000);
});
