// Agreement with pycocotools on random cases. The fixture's expected numbers were produced by running the
// reference COCOeval sources (cocodataset/cocoapi) on the same inputs — see fixtures/pycocotools_fixture.py.
// Cases mix images without objects or detections, a class that never has ground truth, crowd regions,
// explicit areas that differ from box areas, rounded (tied) scores, >100 detections on one image, and mask
// cases with and without detection boxes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateCoco, type CocoDetection, type CocoGroundTruth } from '../../../src-main/core/eval/coco-eval';

interface Case {
  iouType: 'bbox' | 'segm';
  images: number[];
  categories: number[];
  gts: { image_id: number; category_id: number; bbox: [number, number, number, number]; area: number; iscrowd: number; segmentation?: { size: [number, number]; counts: string } }[];
  dts: { image_id: number; category_id: number; bbox?: [number, number, number, number]; score: number; segmentation?: { size: [number, number]; counts: string } }[];
  expected: { stats: number[]; perClassAP: number[] };
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/coco-random-cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('agreement with pycocotools', () => {
  it('has box and mask cases', () => {
    expect(fixture.cases.filter((c) => c.iouType === 'bbox').length).toBeGreaterThanOrEqual(10);
    expect(fixture.cases.filter((c) => c.iouType === 'segm').length).toBeGreaterThanOrEqual(5);
  });

  fixture.cases.forEach((c, n) => {
    it(`case ${n} (${c.iouType}, ${c.gts.length} objects, ${c.dts.length} detections) matches to 1e-9`, () => {
      const gts: CocoGroundTruth[] = c.gts.map((g) => ({
        imageId: g.image_id,
        categoryId: g.category_id,
        bbox: g.bbox,
        area: g.area,
        iscrowd: !!g.iscrowd,
        segmentation: g.segmentation,
      }));
      const dts: CocoDetection[] = c.dts.map((d) => ({ imageId: d.image_id, categoryId: d.category_id, score: d.score, bbox: d.bbox, segmentation: d.segmentation }));
      const r = evaluateCoco(gts, dts, { iouType: c.iouType, imageIds: c.images, categoryIds: c.categories });
      expect(r.stats).toHaveLength(12);
      r.stats.forEach((v, j) => expect(Math.abs(v - c.expected.stats[j]), `stat ${j}: ${v} vs ${c.expected.stats[j]}`).toBeLessThan(1e-9));
      r.perClass.forEach((pc, k) => expect(Math.abs(pc.AP - c.expected.perClassAP[k]), `class ${pc.categoryId}`).toBeLessThan(1e-9));
    });
  });
});
