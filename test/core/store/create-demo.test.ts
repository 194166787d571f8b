import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../../src-main/core/store/create-demo';
import { tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('hst-demo-proj-')));
afterEach(() => t.cleanup());

describe('createDemoProject', () => {
  it('creates a labelled shapes project with its media copied in', async () => {
    const store = await createDemoProject(join(t.dir, 'demo'), { count: 6 });
    try {
      const counts = store.imageCounts();
      expect(counts.all).toBe(6);
      expect(counts.labeled + counts.unlabeled).toBe(6);
      expect(store.listClasses().map((c) => c.name)).toEqual(['circle', 'triangle', 'square']);
      const ds = store.toDataset();
      expect(ds.annotations.length).toBeGreaterThan(0);
      expect(ds.annotations.every((a) => a.geometry.kind === 'mask')).toBe(true);
      for (const im of ds.images) expect(im.absPath!.startsWith(join(store.dir, 'media'))).toBe(true);
    } finally {
      store.close();
    }
  });
});
