import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isInside, resolveInside, safeRelativeName } from '../../../src-main/core/datasets/safe-path';

const root = path.resolve('/data/set');

describe('resolveInside', () => {
  it.each([
    ['a b/ünï.jpg', 'a b/ünï.jpg'],
    ['./x/../y.jpg', 'y.jpg'],
    ['sub\\win.jpg', 'sub/win.jpg'],
    ['..hidden.jpg', '..hidden.jpg'],
    [path.join(root, 'in', 'abs.jpg'), 'in/abs.jpg'],
  ])('%j stays inside as %j', (name, rel) => {
    const r = resolveInside(root, name);
    expect(r).toEqual({ ok: true, abs: path.join(root, rel), rel });
  });

  it.each([
    ['../../etc/passwd', /leaves the dataset root/],
    ['a/../../b.jpg', /leaves the dataset root/],
    ['..\\..\\x.jpg', /leaves the dataset root/],
    ['/etc/passwd', /absolute path '\/etc\/passwd' is outside/],
    ['/data/settings/x.jpg', /outside the dataset root/],
    ['', /empty path/],
    ['a\0b', /NUL/],
  ])('%j is refused', (name, re) => {
    const r = resolveInside(root, name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(re);
  });

  it('isInside and safeRelativeName', () => {
    expect(isInside(root, root)).toBe(true);
    expect(isInside(root, path.dirname(root))).toBe(false);
    expect(safeRelativeName('a/b c.jpg')).toBe('a/b c.jpg');
    expect(safeRelativeName('./a.jpg')).toBe('a.jpg');
    expect(safeRelativeName('../a.jpg')).toBeNull();
    expect(safeRelativeName('/a.jpg')).toBeNull();
    expect(safeRelativeName('C:\\a.jpg')).toBeNull();
  });
});
