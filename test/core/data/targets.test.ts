import { describe, expect, it } from 'vitest';
import { encodeMask } from '../../../src-main/core/geometry/rle';
import { prepareInstances, type AnnotationRef } from '../../../src-main/core/data/instances';
import { letterboxTransform } from '../../../src-main/core/data/letterbox';
import { buildTargets } from '../../../src-main/core/data/targets';

const W = 100;
const H = 60;
const ctx = { imageName: 'x.png', origW: W, origH: H, baseW: W, baseH: H, classIndex: new Map([['a', 0], ['b', 1]]) };
const ref = (className: string, geometry: AnnotationRef['ann']['geometry'], index: number, iscrowd = false): AnnotationRef => ({
  ann: { imageKey: 'x', className, geometry, iscrowd },
  index,
});
const rect = (x0: number, y0: number, x1: number, y1: number) => {
  const m = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return encodeMask(m, H, W);
};

describe('buildTargets', () => {
  const { instances, warnings } = prepareInstances(
    [
      ref('a', { kind: 'mask', rle: rect(2, 2, 12, 12) }, 0), // top left
      ref('b', { kind: 'mask', rle: rect(85, 40, 98, 58) }, 1), // bottom right
      ref('a', { kind: 'box', x: 40, y: 20, w: 20, h: 20 }, 2), // centre, box only
      ref('b', { kind: 'polygon', rings: [[60, 5, 80, 5, 80, 15, 60, 15]] }, 3),
      ref('a', { kind: 'box', x: 0, y: 45, w: 10, h: 10 }, 4, true), // crowd
    ],
    ctx,
  );

  it('keeps everything under the plain letterbox, crowd only as an ignore region', () => {
    expect(warnings).toEqual([]);
    const t = letterboxTransform(W, H, { width: 100, height: 100 }); // scale 1, padY 20
    const tg = buildTargets(instances, t, { width: W, height: H }, 100, 100, { semantic: true, imageClass: -1 });
    expect(Array.from(tg.labels)).toEqual([0, 1, 0, 1]);
    expect(Array.from(tg.boxes)).toEqual([2, 22, 12, 32, 85, 60, 98, 78, 40, 40, 60, 60, 60, 25, 80, 35]);
    const sem = tg.semantic!;
    expect(sem[25 * 100 + 5]).toBe(1);
    expect(sem[70 * 100 + 90]).toBe(2);
    expect(sem[50 * 100 + 50]).toBe(255);
    expect(sem[70 * 100 + 5]).toBe(255); // crowd
    expect(sem[5 * 100 + 5]).toBe(0); // padding is background
  });

  it('clips partly visible instances and drops those pushed off the canvas by zoom and placement', () => {
    // zoom 2 anchored top-left: the canvas shows original x < 50, y < 50
    const t = letterboxTransform(W, H, { width: 100, height: 100 }, { zoom: 2, placeX: 0, placeY: 0 });
    expect([t.scale, t.padX, t.padY]).toEqual([2, 0, 0]);
    const tg = buildTargets(instances, t, { width: W, height: H }, 100, 100, { semantic: true, imageClass: -1 });
    // top-left mask kept; bottom-right mask and the polygon are off-canvas; the centre box is clipped
    expect(Array.from(tg.labels)).toEqual([0, 0]);
    expect(Array.from(tg.boxes)).toEqual([4, 4, 24, 24, 80, 40, 100, 80]);
    expect(tg.masks[0]!.reduce((a, v) => a + v, 0)).toBe(400);
    expect(tg.masks[1]).toBeNull();
    // flipped: the canvas shows the right half of the original, mirrored
    const f = letterboxTransform(W, H, { width: 100, height: 100 }, { zoom: 2, placeX: 0, placeY: 1, flipped: true });
    const tf = buildTargets(instances, f, { width: W, height: H }, 100, 100, { semantic: false, imageClass: 3 });
    expect(tf.semantic).toBeNull();
    expect(tf.imageClass).toBe(3);
    expect(Array.from(tf.labels)).toEqual([1, 0, 1]);
    const b = Array.from(tf.boxes);
    // the bottom-right mask (x 85..98, y 40..58) mirrored to x 2..15, scaled ×2, y shifted by padY = −20
    expect(b.slice(0, 4)).toEqual([4, 60, 30, 96]);
    expect(tf.masks.every((m, i) => (m === null) === (i === 1))).toBe(true);
  });
});
