import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src-main/core/data/rng';

describe('training Rng', () => {
  it('is deterministic per seed tuple and differs between tuples', () => {
    const a = Array.from({ length: 20 }, ((r) => () => r.u32())(new Rng(7, 1)));
    const b = Array.from({ length: 20 }, ((r) => () => r.u32())(new Rng(7, 1)));
    const c = Array.from({ length: 20 }, ((r) => () => r.u32())(new Rng(7, 2)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
  });

  it('restores from a saved state to give the same continuation', () => {
    const r = new Rng(123);
    for (let i = 0; i < 37; i++) r.next();
    const state = r.getState();
    const json = JSON.parse(JSON.stringify(state));
    const cont = Array.from({ length: 50 }, () => r.next());
    const r2 = Rng.fromState(json);
    expect(Array.from({ length: 50 }, () => r2.next())).toEqual(cont);
    const r3 = new Rng(999);
    r3.setState(state);
    expect(r3.next()).toBe(cont[0]);
  });

  it('gives uniforms in [0,1) with a plausible mean, ints in range, and permutations', () => {
    const r = new Rng(5);
    let s = 0;
    let outOfRange = 0;
    for (let i = 0; i < 20000; i++) {
      const v = r.next();
      if (!(v >= 0 && v < 1)) outOfRange++;
      s += v;
    }
    expect(outOfRange).toBe(0);
    expect(Math.abs(s / 20000 - 0.5)).toBeLessThan(0.01);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.int(0, 2)]++;
    expect(Math.min(...counts)).toBeGreaterThan(850);
    const p = r.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...p].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects malformed states with a message', () => {
    const r = new Rng(1);
    expect(() => r.setState([1, 2, 3])).toThrow(/four unsigned 32-bit/);
    expect(() => r.setState([1, 2, 3, -1])).toThrow(/four unsigned 32-bit/);
    expect(() => r.setState([0, 0, 0, 0])).toThrow(/all zeros/);
    expect(() => new Rng(Number.NaN)).toThrow(/finite/);
  });
});
