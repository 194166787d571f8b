// A new user's datasets through the studio in a real browser: a Roboflow-style YOLO export (data.yaml with
// ../train/images) and a CVAT-style COCO export (annotations/instances_<subset>.json beside images/<subset>/)
// are imported from the Projects screen with their splits; a broken one fails with a readable message and
// leaves nothing behind; the project is then exported as COCO with one file per split. Our own fixtures, in
// those tools' layouts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, requireBrowserAndBuild, ROOT, SCREENSHOTS, startStudio, type Studio } from './studio-harness';

let studio: Studio;
let context: BrowserContext;
let page: Page;
let seed = 0;

const eventually = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });

/** A distinct little photo (the store merges identical files, so each gets its own pixels). */
async function photo(file: string, w = 64, h = 48): Promise<void> {
  mkdirSync(join(file, '..'), { recursive: true });
  const s = ++seed;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="rgb(${(s * 47) % 255},${(s * 91) % 255},120)"/><rect x="${s % 20}" y="8" width="24" height="16" fill="#fff"/></svg>`;
  await sharp(Buffer.from(svg)).jpeg().toFile(file);
}

async function roboflowYolo(root: string) {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'data.yaml'), "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\nnames: ['apple', 'pear']\n\nroboflow:\n  workspace: me\n  project: fruit\n  version: 1\n");
  writeFileSync(join(root, 'README.roboflow.txt'), 'Fruit - v1\n');
  for (const [split, n] of [['train', 4], ['valid', 2], ['test', 1]] as const) {
    for (let i = 0; i < n; i++) {
      await photo(join(root, split, 'images', `${split}${i}_jpg.rf.${i}abc.jpg`));
      mkdirSync(join(root, split, 'labels'), { recursive: true });
      writeFileSync(join(root, split, 'labels', `${split}${i}_jpg.rf.${i}abc.txt`), `${i % 2} 0.5 0.5 0.4 0.3\n`);
    }
  }
}

async function cvatCoco(root: string) {
  let id = 0;
  for (const [subset, n] of [['train', 2], ['Validation', 1]] as const) {
    const images = [];
    for (let i = 0; i < n; i++) {
      const file = `frame_${String(id).padStart(6, '0')}.jpg`;
      await photo(join(root, 'images', subset, file));
      images.push({ id: ++id, width: 64, height: 48, file_name: file, license: 0, flickr_url: '', coco_url: '', date_captured: 0 });
    }
    mkdirSync(join(root, 'annotations'), { recursive: true });
    writeFileSync(join(root, 'annotations', `instances_${subset}.json`), JSON.stringify({
      licenses: [{ name: '', id: 0, url: '' }],
      info: { contributor: '', date_created: '', description: '', url: '', version: '', year: '' },
      categories: [{ id: 1, name: 'pear', supercategory: '' }, { id: 2, name: 'plum', supercategory: '' }],
      images,
      annotations: images.map((im, k) => ({ id: k + 1, image_id: im.id, category_id: 2, segmentation: [[4, 4, 30, 4, 30, 20, 4, 20]], area: 416, bbox: [4, 4, 26, 16], iscrowd: 0, attributes: { occluded: false } })),
    }));
  }
}

async function api<T>(method: string, body: unknown): Promise<T> {
  return page.evaluate(
    async ([m, b]) => {
      const r = await fetch(`api/${m}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      return r.json();
    },
    [method, body] as const,
  ) as Promise<T>;
}

const splitCounts = async () => {
  const out: number[] = [];
  for (const split of ['train', 'val', 'test']) out.push((await api<{ total: number }>('images.list', { split, limit: 1 })).total);
  return out;
};

async function importDataset(path: string) {
  await page.getByTestId('dataset-path').fill(path);
  await page.getByTestId('dataset-import').click();
  await page.getByTestId('import-summary').waitFor({ timeout: 30_000 });
}

beforeAll(async () => {
  requireBrowserAndBuild();
  studio = await startStudio();
  await roboflowYolo(join(studio.tmp, 'downloads', 'fruit.v1i.yolov8'));
  await cvatCoco(join(studio.tmp, 'downloads', 'task_12-coco'));
  ({ context, page } = await openBrowser(studio.tmp));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await studio?.stop();
});

describe('importing real tools\' exports', () => {
  it('imports a Roboflow YOLO folder and a CVAT COCO folder with their splits, refuses a broken one, and exports COCO by split', async () => {
    await page.goto(studio.url);
    await page.getByTestId('projects-screen').waitFor();
    const projectDir = join(studio.tmp, 'project');
    await page.getByTestId('create-dir').fill(projectDir);
    await page.getByTestId('create-name').fill('Fruit');
    await page.getByTestId('create-project').click();
    await page.getByTestId('current-project').filter({ hasText: 'Fruit' }).waitFor();

    await importDataset(join(studio.tmp, 'downloads', 'fruit.v1i.yolov8'));
    await eventually(() => page.getByTestId('import-summary').textContent()).toMatch(/^Imported 7 images, 7 annotations and 2 classes from yolo$/);
    expect(await splitCounts()).toEqual([4, 2, 1]);

    await page.getByTestId('dataset-path').fill('');
    await importDataset(join(studio.tmp, 'downloads', 'task_12-coco'));
    await eventually(() => page.getByTestId('import-summary').textContent()).toMatch(/^Imported 3 images, 3 annotations and 1 classes from coco/);
    expect(await splitCounts()).toEqual([6, 3, 1]);
    const { classes } = await api<{ classes: { name: string }[] }>('classes.list', {});
    expect(classes.map((c) => c.name).sort()).toEqual(['apple', 'pear', 'plum']); // 'pear' of both datasets is one class
    await page.screenshot({ path: join(SCREENSHOTS, 'dataset-import.png') });

    // the same CVAT folder again: nothing changes, and the studio says so
    await importDataset(join(studio.tmp, 'downloads', 'task_12-coco'));
    await eventually(() => page.getByTestId('import-summary').textContent()).toMatch(/Nothing changed: this coco dataset is already in the project/);

    // a COCO export whose images were not downloaded: fails, says why, imports nothing
    const broken = join(studio.tmp, 'downloads', 'no-images');
    mkdirSync(join(broken, 'annotations'), { recursive: true });
    writeFileSync(join(broken, 'annotations', 'instances_default.json'), JSON.stringify({
      images: [{ id: 1, file_name: 'x.jpg', width: 8, height: 8 }], categories: [{ id: 1, name: 'ghost' }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2] }],
    }));
    await importDataset(broken);
    await eventually(() => page.getByTestId('import-summary').textContent()).toMatch(/^Import failed: nothing was imported from this coco dataset:\nerror: \(dataset\): none of its 1 image could be imported \(1 missing\)[\s\S]*warning: x\.jpg: the image file is missing/);
    expect((await api<{ classes: { name: string }[] }>('classes.list', {})).classes.map((c) => c.name)).not.toContain('ghost');
    await page.screenshot({ path: join(SCREENSHOTS, 'dataset-import-failed.png') });

    // export: one COCO file per split, as CVAT and Datumaro write it
    const out = join(studio.tmp, 'export');
    execFileSync(process.execPath, [join(ROOT, 'bin/hst-studio.js'), 'export-dataset', projectDir, '--format', 'coco', out], { cwd: ROOT, env: { ...process.env, HST_BACKEND: 'cpu' } });
    const counts = ['train', 'val', 'test'].map((s) => {
      const j = JSON.parse(readFileSync(join(out, 'annotations', `instances_${s}.json`), 'utf8'));
      return [j.images.length, j.annotations.length];
    });
    expect(counts).toEqual([[6, 6], [3, 3], [1, 1]]);
    expect(() => readFileSync(join(out, 'images', 'val', 'frame_000002.jpg'))).not.toThrow();
  }, 180_000);
});
