import { describe, expect, it } from 'vitest';
import { levelFor } from '../../../src-main/core/app/image-pyramid';
import { firstLevel, neededLevel } from '../../../src-renderer/src/editor/image-levels';

describe('image pyramid levels', () => {
  it('asks for the smallest power-of-two level that covers the on-screen size', () => {
    expect(neededLevel(6000, 0.2)).toBe(2048); // 1200 px on screen
    expect(neededLevel(6000, 0.1)).toBe(1024);
    expect(neededLevel(6000, 0.1, 2)).toBe(2048); // HiDPI needs twice the pixels
    expect(neededLevel(6000, 1)).toBeNull(); // full resolution
    expect(neededLevel(800, 0.5)).toBe(512);
    expect(neededLevel(800, 0.9)).toBeNull(); // 1024 ≥ the image: use the original
  });

  it('paints first from ~1 MP and agrees with the server on level names', () => {
    expect(firstLevel(6000, 4000)).toBe(1024);
    expect(firstLevel(640, 480)).toBeNull();
    for (const [w, h, max] of [[6000, 4000, 1024], [6000, 4000, 300], [3000, 2000, 2048], [800, 600, 1024]] as const) {
      const client = neededLevel(Math.max(w, h), max / Math.max(w, h));
      expect(levelFor(client ?? undefined, w, h), `${w}x${h}@${max}`).toBe(client);
    }
  });
});
