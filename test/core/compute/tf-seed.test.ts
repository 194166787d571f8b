import { describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { tfSeed } from '../../../src-main/core/compute/tf-seed';

describe('tfSeed', () => {
  it('keeps a seed of 0 a seed: tfjs itself draws afresh for 0', () => {
    const draw = (seed: number) => Array.from(tf.tidy(() => tf.randomNormal([8], 0, 1, 'float32', seed).dataSync()));
    expect(draw(0)).not.toEqual(draw(0)); // the trap
    expect(draw(tfSeed(0))).toEqual(draw(tfSeed(0)));
    expect(tfSeed(0)).not.toBe(0);
    expect(tfSeed(17)).toBe(17);
  });
});
