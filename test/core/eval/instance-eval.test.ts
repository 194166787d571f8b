import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateShapes } from '../../../src-main/core/demo/index';
import { evaluateInstances, type EvalObject, type EvalPrediction } from '../../../src-main/core/eval/instance-eval';
import { encodeMask } from '../../../src-main/core/geometry/rle';
import { polygonsToRle } from '../../../src-main/core/geometry/rasterize';

const dir = mkdtempSync(join(tmpdir(), 'hst-inst-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('instance evaluation over studio geometries', () => {
  it('scores the demo ground truth against itself as perfect, from masks and from polygons', async () => {
    const ds = await generateShapes({ count: 6, size: 64, seed: 2, outDir: dir });
    const images = ds.images.map((im, i) => ({ id: i + 1, width: im.width, height: im.height }));
    const imgId = new Map(ds.images.map((im, i) => [im.key, i + 1]));
    const classIds = ds.classes.map((_, k) => k + 1);
    const cls = new Map(ds.classes.map((c, k) => [c.name, k + 1]));
    const asMask: EvalObject[] = ds.instances.map((x) => ({ imageId: imgId.get(x.imageKey)!, classId: cls.get(x.className)!, geometry: { kind: 'mask', rle: x.rle } }));
    const asPoly: EvalObject[] = ds.instances
      .filter((x) => x.holesDropped === 0)
      .map((x) => ({ imageId: imgId.get(x.imageKey)!, classId: cls.get(x.className)!, geometry: { kind: 'polygon', rings: x.polygons } }));
    for (const x of ds.instances) if (x.holesDropped === 0) expect(polygonsToRle(x.polygons, 64, 64).counts).toBe(x.rle.counts);
    const preds: EvalPrediction[] = asMask.map((o, n) => ({ ...o, score: 1 - n / 1000 }));
    const r = evaluateInstances({ images, classIds, groundTruth: asMask, predictions: preds });
    expect(r.bbox.summary.AP).toBeCloseTo(1, 9);
    expect(r.segm!.summary.AP).toBeCloseTo(1, 9);
    // polygons traced from the masks rasterise (frPoly) back to the same pixels: mask AP stays 1
    const polyPreds = preds.filter((_, n) => ds.instances[n].holesDropped === 0);
    const rp = evaluateInstances({ images, classIds, groundTruth: asPoly, predictions: polyPreds });
    expect(rp.segm!.summary.AP).toBeCloseTo(1, 9);
    expect(rp.bbox.summary.AP).toBeCloseTo(1, 9);
  });

  it('leaves classes with box-only labels out of mask AP', () => {
    const m = new Uint8Array(20 * 20);
    for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) m[y * 20 + x] = 1;
    const rle = encodeMask(m, 20, 20);
    const r = evaluateInstances({
      images: [{ id: 1, width: 20, height: 20 }],
      classIds: [1, 2],
      groundTruth: [
        { imageId: 1, classId: 1, geometry: { kind: 'mask', rle } },
        { imageId: 1, classId: 2, geometry: { kind: 'box', x: 10, y: 10, w: 5, h: 5 } },
      ],
      predictions: [
        { imageId: 1, classId: 1, geometry: { kind: 'mask', rle }, score: 0.9 },
        { imageId: 1, classId: 2, geometry: { kind: 'box', x: 10, y: 10, w: 5, h: 5 }, score: 0.8 },
      ],
    });
    expect(r.segmSkippedClasses).toEqual([2]);
    expect(r.segm!.categoryIds).toEqual([1]);
    expect(r.bbox.perClass.map((c) => Math.round(c.AP * 1e9) / 1e9)).toEqual([1, 1]);
    // the mask's box is its tight pixel box [2, 2, 6, 6]
    expect(r.bbox.summary.AP).toBeCloseTo(1, 9);
  });

  it('names the record when a mask does not fit its image', () => {
    const rle = encodeMask(new Uint8Array(10 * 12), 10, 12);
    expect(() =>
      evaluateInstances({ images: [{ id: 3, width: 20, height: 20 }], classIds: [1], groundTruth: [{ imageId: 3, classId: 1, geometry: { kind: 'mask', rle } }], predictions: [] }),
    ).toThrow(/ground truth 0 \(image 3, class 1\): mask is 12x10 but image 3 is 20x20/);
    expect(() =>
      evaluateInstances({ images: [], classIds: [1], groundTruth: [{ imageId: 9, classId: 1, geometry: { kind: 'box', x: 0, y: 0, w: 1, h: 1 } }], predictions: [] }),
    ).toThrow(/ground truth 0 \(image 9, class 1\): its image is not in the evaluated image list/);
  });
});
