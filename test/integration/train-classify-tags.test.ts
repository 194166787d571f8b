// Classification from image tags, end to end: LabelMe image `flags` import as tags, tags typed later ride on a
// changeset, the plan infers the classify task from them, and a tiny run fine-tunes the classification head and
// records a model version with an image-level accuracy on the val split.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTraining } from '../../src-main/core/app/train-service';
import { initCompute } from '../../src-main/core/compute/engine';
import { importLabelme } from '../../src-main/core/datasets/labelme-import';
import { createProject, openProject } from '../../src-main/core/store/project';
import { inferTasks, trainProject, type TrainJobEvent } from '../../src-main/core/training/train-project';

let root: string;
beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
  root = mkdtempSync(join(tmpdir(), 'hst-tags-cls-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COLOURS = { red: { r: 220, g: 30, b: 30 }, blue: { r: 30, g: 40, b: 220 } };

/** A LabelMe folder: 8 images, half red and half blue, each with its colour as a set image flag (no shapes). */
async function labelmeFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < 8; i++) {
    const tag = i % 2 ? 'red' : 'blue';
    const c = COLOURS[tag];
    const px = Buffer.alloc(48 * 40 * 3);
    for (let p = 0; p < 48 * 40; p++) {
      const n = (p * 7 + i * 13) % 23; // some texture so images differ
      px[p * 3] = Math.min(255, c.r + n);
      px[p * 3 + 1] = Math.min(255, c.g + n);
      px[p * 3 + 2] = Math.min(255, c.b + n);
    }
    await writeFile(join(dir, `img${i}.png`), await sharp(px, { raw: { width: 48, height: 40, channels: 3 } }).png().toBuffer());
    const flags = { red: tag === 'red', blue: tag === 'blue' };
    await writeFile(join(dir, `img${i}.json`), JSON.stringify({ version: '5.4.1', flags, shapes: [], imagePath: `img${i}.png`, imageData: null, imageHeight: 40, imageWidth: 48 }));
  }
}

describe('classification from image tags', () => {
  it('LabelMe flags → tags → plan (classify) → tiny fine-tune of the classification head → model version', async () => {
    const src = join(root, 'labelme');
    await labelmeFolder(src);
    const dir = join(root, 'project');
    const store = createProject(dir);
    const ds = await importLabelme(src);
    expect(ds.issues).toEqual([]);
    const r = await store.importDataset(ds);
    expect(r.images).toBe(8);
    expect(store.tagCounts()).toEqual([{ tag: 'blue', count: 4 }, { tag: 'red', count: 4 }]);
    const ids = store.imageIds();
    store.setSplit([ids[6], ids[7]], 'val');
    // a tag typed in the editor (a changeset) on an image: with two tags it is left out, and said so
    store.apply({ tags: { added: [{ imageId: ids[0], tag: 'night' }], removed: [] }, label: 'tag' });
    expect(inferTasks(store.toDataset())).toEqual(['classify']);
    const plan = await planTraining(store, { backbone: 'random', preset: 'tiny' });
    expect(plan.mode).toBe('fast'); // the studio's CPU default: cached ViT, side network + heads train
    expect(plan.tasks).toEqual(['classify']);
    expect(plan.trainImages).toBe(5); // 6 train images, one with two tags
    expect(plan.valImages).toBe(2);
    store.close();

    const events: TrainJobEvent[] = [];
    const res = await trainProject(
      {
        project: dir, backbone: 'random', tasks: plan.tasks as ['classify'], side: 'classification', size: 64, steps: 3, batchSize: 2, seed: 1, mode: plan.mode, dataParallel: false,
        randomVit: { embed_dim: 32, num_heads: 2, depth: 4 },
      },
      { onEvent: (e) => events.push(e) },
    );
    expect(res.status).toBe('done');
    expect(res.steps).toBe(3);
    expect(events.some((e) => e.type === 'warning' && /1 image with several tags left out of classification/.test((e as { message: string }).message))).toBe(true);
    expect((events.find((e) => e.type === 'start') as { images: number }).images).toBe(5);
    // the val split's image-level accuracy over its 2 images: 0, 0.5 or 1
    expect([0, 0.5, 1]).toContain(res.metrics?.classify?.accuracy);
    const again = openProject(dir);
    try {
      const v = again.getModelVersion(res.modelVersion!)!;
      expect(v.task).toBe('classify');
      expect((v.config as { spec: { classes: string[] } }).spec.classes).toEqual(['blue', 'red']);
    } finally {
      again.close();
    }
  }, 300_000);

  it('one tag only is not enough to classify: the plan says what is missing', async () => {
    const dir = join(root, 'one-tag');
    const store = createProject(dir);
    const { insertImage } = store;
    const id = insertImage.call(store, { hash: 'a'.repeat(64), path: 'media/a.jpg', linked: false, fileName: 'a.jpg', format: 'jpeg', bytes: 1, width: 8, height: 8, orientation: 1 }).id;
    store.apply({ tags: { added: [{ imageId: id, tag: 'cat' }], removed: [] } });
    await expect(planTraining(store, { backbone: 'random' })).rejects.toThrow(/needs at least two different tags/);
    store.close();
  });
});
