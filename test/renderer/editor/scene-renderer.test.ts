import { describe, expect, it } from 'vitest';
import { labelRect, smoothingFor } from '../../../src-renderer/src/editor/scene-renderer';

describe('selected shapes\' labels (scene-renderer)', () => {
  it('keeps a label on the image: inside a shape touching the top edge, clamped at the right edge', () => {
    const vp = { scale: 0.5, tx: 100, ty: 50 };
    // a shape at the image's top edge: the label goes inside it, not above the image
    expect(labelRect({ x: 10, y: 0 }, vp, 40, 800, 600)).toEqual({ x: 105, y: 52, w: 40, h: 16 });
    // room above: the label sits above the shape
    expect(labelRect({ x: 10, y: 200 }, vp, 40, 800, 600).y).toBe(50 + 100 - 18);
    // at the right edge: clamped to end at the image's right side (100 + 800 × 0.5 = 500)
    const r = labelRect({ x: 790, y: 200 }, vp, 40, 800, 600);
    expect(r.x + r.w).toBeLessThanOrEqual(500);
  });
});

describe('image smoothing of a pyramid level (scene-renderer)', () => {
  it('draws bilinear when the level shrinks by less than 2x, so no mipmaps of a big level are built', () => {
    expect(smoothingFor('medium', 1.5)).toBe('low'); // the level the zoom asked for: just above screen size
    expect(smoothingFor('medium', 1)).toBe('low');
    expect(smoothingFor('medium', 2)).toBe('medium'); // a much finer level than needed still gets filtered
    expect(smoothingFor('medium', 6)).toBe('medium');
    expect(smoothingFor('low', 6)).toBe('low'); // moving: always cheap
    expect(smoothingFor('high', 3)).toBe('high');
  });
});
