// The PyTorch trainer's data pipeline (trainers/pytorch/hst_trainer/data.py) against the studio's
// (training/data/): on a bundle's COCO file, with the same seed, the same samples get the same augmentation
// (flip, zoom, placement from the same xoshiro128** stream), the same boxes, labels, masks and semantic maps, and
// nearly the same pixels (the studio decodes and pre-shrinks with sharp, the trainer with PIL).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { importCoco } from '../../src-main/core/datasets/coco-import';
import { exportTrainingBundle, type TrainingBundleResult } from '../../src-main/core/export/training-bundle';
import { readSafetensors, toFloat32, type StTensor } from '../../src-main/core/io/safetensors';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { createDataPipeline } from '../../src-main/core/data/pipeline';
import { Rng } from '../../src-main/core/data/rng';
import type { Sample } from '../../src-main/core/data/types';
import { findTorchPython, runPython, torchAvailable } from './python-env';

const ok = torchAvailable();
const INDICES = [0, 1, 2, 3, 4, 5, 0, 1];

describe.runIf(ok || process.env.CI)('PyTorch trainer data pipeline = studio data pipeline', () => {
  let bundle: TrainingBundleResult;
  let ts: Sample[];
  let py: Map<string, StTensor>;

  beforeAll(async () => {
    if (!ok) throw new Error(findTorchPython().reason!);
    await initCompute({});
    const dir = mkdtempSync(join(tmpdir(), 'hst-torch-data-'));
    (await createDemoProject(join(dir, 'demo'), { count: 10 })).close();
    bundle = await exportTrainingBundle(join(dir, 'demo'), join(dir, 'bundle'), { backbone: 'random', vitDepth: 4, size: 64, side: 'lite', steps: 10 });
    const coco = join(bundle.out, 'dataset', 'train.json');
    const ds = await importCoco(coco);
    const r = bundle.recipe;
    const pipe = createDataPipeline({ dataset: ds, classes: { names: bundle.spec.classes }, size: bundle.spec.inputSize, norm: bundle.spec.norm, seed: r.seed, split: 'train', augment: r.augment });
    ts = await pipe.batch(INDICES, new Rng(r.seed, 0xa06));
    const out = join(dir, 'py.safetensors');
    const p = runPython(['-m', 'hst_trainer.dump_samples', '--coco', coco, '--spec', join(bundle.out, 'spec.json'), '--train', join(bundle.out, 'train.json'), '--indices', INDICES.join(','), '--out', out]);
    if (p.code !== 0) throw new Error(`dump_samples failed: ${p.stderr}`);
    py = (await readSafetensors(out)).tensors;
  }, 300_000);

  it('draws the same augmentation and builds the same targets', () => {
    expect(ts.length).toBe(INDICES.length);
    let flips = 0;
    let maskPixels = 0;
    let maskDiff = 0;
    ts.forEach((s, i) => {
      const tr = new Float64Array(py.get(`s${i}.transform`)!.data.slice().buffer);
      const t = s.transform;
      expect([...tr], `sample ${i} transform`).toEqual([t.origW, t.origH, t.scale, t.padX, t.padY, t.flipped ? 1 : 0]);
      if (t.flipped) flips++;
      expect([...new Int32Array(py.get(`s${i}.labels`)!.data.slice().buffer)], `sample ${i} labels`).toEqual([...s.targets.labels]);
      const boxes = toFloat32(py.get(`s${i}.boxes`)!, 'boxes');
      expect(boxes.length).toBe(s.targets.boxes.length);
      boxes.forEach((v, k) => expect(Math.abs(v - s.targets.boxes[k]), `sample ${i} box value ${k}`).toBeLessThan(1e-3));
      const masks = py.get(`s${i}.masks`)!.data;
      const HW = s.height * s.width;
      s.targets.masks.forEach((m, k) => {
        const p = masks.subarray(k * HW, (k + 1) * HW);
        if (!m) return expect(p[0], `sample ${i} instance ${k} is box-only`).toBe(255);
        for (let q = 0; q < HW; q++) {
          maskPixels += m[q];
          if (m[q] !== p[q]) maskDiff++;
        }
      });
      if (s.targets.semantic) expect([...py.get(`s${i}.semantic`)!.data], `sample ${i} semantic`).toEqual([...s.targets.semantic]);
    });
    console.log(`${ts.length} samples, ${flips} flipped, ${maskPixels} mask pixels, ${maskDiff} differ`);
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(ts.length);
    expect(maskDiff).toBe(0);
  });

  it('resamples, jitters and normalises the pixels alike', () => {
    let worstMean = 0;
    ts.forEach((s, i) => {
      const p = toFloat32(py.get(`s${i}.image`)!, 'image');
      let d = 0;
      for (let q = 0; q < p.length; q++) d += Math.abs(p[q] - s.image[q]);
      worstMean = Math.max(worstMean, d / p.length);
    });
    console.log(`worst mean |Δpixel| (normalised units, range 2) ${worstMean.toExponential(2)}`);
    expect(worstMean).toBeLessThan(0.02);
  });
});
