import { describe, expect, it } from 'vitest';
import { middleEllipsis } from '../../../src-renderer/src/text/middle-ellipsis';

describe('middleEllipsis', () => {
  it('keeps the distinguishing tail of long names that share a prefix', () => {
    const a = middleEllipsis('IMG_20240611_153012_0042.jpg', 20);
    const b = middleEllipsis('IMG_20240611_153012_0043.jpg', 20);
    expect(a).not.toBe(b);
    expect(a.endsWith('0042.jpg')).toBe(true);
    expect([...a].length).toBe(20);
    expect(a).toContain('…');
  });
  it('leaves short names alone and never splits a code point', () => {
    expect(middleEllipsis('cat.jpg', 20)).toBe('cat.jpg');
    const s = middleEllipsis('😀😀😀😀😀😀😀😀😀😀😀😀.png', 8);
    expect([...s].length).toBe(8);
    expect(s.endsWith('.png')).toBe(true);
  });
});
