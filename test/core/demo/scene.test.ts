import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src-main/core/demo/rng';
import { renderScene, type SceneOptions } from '../../../src-main/core/demo/scene';

const opts: SceneOptions = {
  width: 96,
  height: 80,
  classes: ['circle', 'triangle', 'square', 'star'],
  objects: [3, 6],
  scale: [0.1, 0.3],
  minVisible: 0.4,
  noise: 0,
  overlap: 0.8,
};

describe('scene composition and occlusion', () => {
  it('a mask is the outline minus everything drawn later, and every shape stays ≥ 40% visible', () => {
    let occluded = 0;
    let total = 0;
    let wrong = 0;
    for (let seed = 0; seed < 25; seed++) {
      const sc = renderScene(new Rng(123, seed), opts);
      const { width: w, height: h } = sc;
      sc.instances.forEach((inst, k) => {
        total++;
        if (inst.area < inst.fullArea) occluded++;
        expect(inst.area).toBeGreaterThanOrEqual(0.4 * inst.fullArea);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const mine = inst.shape.inside(x + 0.5, y + 0.5);
            const covered = sc.instances.slice(k + 1).some((o) => o.shape.inside(x + 0.5, y + 0.5));
            if (inst.mask[y * w + x] !== (mine && !covered ? 1 : 0)) wrong++;
          }
        }
      });
    }
    expect(wrong).toBe(0);
    // the check above means something only if overlaps happen often
    expect(occluded).toBeGreaterThan(total / 5);
  });

  it('draws the shapes into the picture: object pixels differ from the same scene without them', () => {
    const sc = renderScene(new Rng(5, 1), opts);
    expect(sc.instances.length).toBeGreaterThan(0);
    const empty = renderScene(new Rng(5, 1), opts, []);
    const w = sc.width;
    for (const inst of sc.instances) {
      let changed = 0;
      for (let p = 0; p < inst.mask.length; p++) {
        if (!inst.mask[p]) continue;
        const d = Math.abs(sc.rgb[p * 3] - empty.rgb[p * 3]) + Math.abs(sc.rgb[p * 3 + 1] - empty.rgb[p * 3 + 1]) + Math.abs(sc.rgb[p * 3 + 2] - empty.rgb[p * 3 + 2]);
        if (d > 0) changed++;
      }
      expect(changed / inst.area, `instance at ${inst.bbox} in a ${w}px image`).toBeGreaterThan(0.8);
    }
  });
});
