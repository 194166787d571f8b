import { describe, expect, it } from 'vitest';
import { formatRoute, isNewStep, parseRoute } from '../../src-renderer/src/router';

describe('routes', () => {
  it('round-trips every view with its project and the editor image', () => {
    const dir = '/data/my project/#1?x';
    for (const r of [
      { screen: 'gallery' as const, project: dir },
      { screen: 'editor' as const, imageId: 12, project: dir },
      { screen: 'classes' as const, project: dir },
      { screen: 'train' as const, project: dir },
      { screen: 'models' as const, project: dir },
      { screen: 'projects' as const },
    ]) expect(parseRoute(formatRoute(r))).toEqual(r);
    expect(formatRoute({ screen: 'editor', imageId: 3, project: '/p' })).toBe('#/editor/3?p=%2Fp');
  });

  it('ignores what it does not know (the app then shows its default view)', () => {
    for (const bad of ['', '#', '#gallery', '#/nope', '#/gallery/3', '#/editor/0', '#/editor/x', '#/editor/1/2']) expect(parseRoute(bad), bad).toBeNull();
  });

  it('a new tab or project is a history step; the editor moving to another image replaces', () => {
    expect(isNewStep({ screen: 'gallery', project: '/a' }, { screen: 'editor', project: '/a' })).toBe(true);
    expect(isNewStep({ screen: 'gallery', project: '/a' }, { screen: 'gallery', project: '/b' })).toBe(true);
    expect(isNewStep({ screen: 'editor', imageId: 1, project: '/a' }, { screen: 'editor', imageId: 2, project: '/a' })).toBe(false);
    expect(isNewStep(null, { screen: 'gallery' })).toBe(false);
  });
});
