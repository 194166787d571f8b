// The studio's val hold-out: seeded and stable, ≈ the fraction asked, every class with 2+ images in it (and
// still in train), independent of the images' order.
import { describe, expect, it } from 'vitest';
import { drawHoldout, type HoldoutImage } from '../../../src-main/core/training/holdout';

function images(n: number, classOf: (i: number) => string[]): HoldoutImage[] {
  return Array.from({ length: n }, (_, i) => ({ key: `img-${i}`, classes: classOf(i) }));
}

describe('drawHoldout', () => {
  it('holds out ~15 %, the same keys for the same seed in any order, other keys for another seed', () => {
    const ims = images(162, (i) => [['cat', 'dog', 'bird'][i % 3]]);
    const a = drawHoldout(ims, 0.15, 0);
    expect(a.size).toBe(Math.round(162 * 0.15));
    expect(drawHoldout([...ims].reverse(), 0.15, 0)).toEqual(a);
    const b = drawHoldout(ims, 0.15, 1);
    expect(b).not.toEqual(a);
    expect(b.size).toBe(a.size);
  });

  it('represents every class with 2+ images, keeps one of each in train, and leaves single-image classes in train', () => {
    // 'rare' is on 2 images, 'solo' on 1: a 15 % draw by rank alone would usually miss them
    const ims = images(60, (i) => (i === 10 || i === 50 ? ['common', 'rare'] : i === 33 ? ['solo'] : ['common']));
    for (const seed of [0, 1, 2, 3, 4]) {
      const val = drawHoldout(ims, 0.15, seed);
      const valClasses = new Set(ims.filter((im) => val.has(im.key)).flatMap((im) => im.classes));
      const trainClasses = new Set(ims.filter((im) => !val.has(im.key)).flatMap((im) => im.classes));
      expect(valClasses.has('rare')).toBe(true);
      expect(valClasses.has('solo')).toBe(false);
      expect([...trainClasses].sort()).toEqual(['common', 'rare', 'solo']);
      expect(val.size).toBe(9);
    }
  });

  it('adding images keeps the earlier draw except where the quota grows', () => {
    const ims = images(100, () => ['x']);
    const before = drawHoldout(ims, 0.15, 0);
    const after = drawHoldout([...ims, ...images(120, () => ['x']).slice(100)], 0.15, 0);
    // every image kept in train before is still in train unless it ranks inside the larger quota
    const moved = [...before].filter((k) => !after.has(k));
    expect(moved.length).toBeLessThanOrEqual(3); // 20 new images compete for 18 places: a few may push earlier ones out
    expect(after.size).toBe(18);
  });

  it('small projects: at least one val image from two, never all; a bad fraction is refused', () => {
    expect(drawHoldout(images(2, () => ['a']), 0.15).size).toBe(1);
    expect(drawHoldout(images(1, () => ['a']), 0.15).size).toBe(0);
    expect(() => drawHoldout(images(5, () => ['a']), 1.5)).toThrow(/between 0 and 1/);
  });
});
