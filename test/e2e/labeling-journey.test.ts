// The labeling journey in a real browser against the built `hst-studio serve`: create a project, import
// images, draw a box, a polygon and a brush mask, assign classes by hotkey, undo/redo, move between images,
// reload and find everything saved, delete a class and undo that. Screenshots land in test/e2e/screenshots/.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, requireBrowserAndBuild, SCREENSHOTS, startStudio, writeTestImages, type Studio } from './studio-harness';

const IMG_W = 800, IMG_H = 600;
let studio: Studio;
let context: BrowserContext;
let page: Page;

interface Ann {
  id: string;
  classId: number;
  geometry: { kind: string; x?: number; y?: number; w?: number; h?: number; rings?: number[][]; rle?: { size: number[]; counts: string } };
}

/** Screen position of an image pixel while the image is fitted (the editor's fit: 16 px margin, centred). */
async function at(x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('editor-canvas').boundingBox())!;
  const scale = Math.min((box.width - 32) / IMG_W, (box.height - 32) / IMG_H);
  return { x: box.x + (box.width - IMG_W * scale) / 2 + x * scale, y: box.y + (box.height - IMG_H * scale) / 2 + y * scale };
}

async function click(x: number, y: number) {
  const p = await at(x, y);
  await page.mouse.click(p.x, p.y);
}

async function drag(points: [number, number][]) {
  const first = await at(...points[0]);
  await page.mouse.move(first.x, first.y);
  await page.mouse.down();
  for (const pt of points.slice(1)) {
    const p = await at(...pt);
    await page.mouse.move(p.x, p.y, { steps: 6 });
  }
  await page.mouse.up();
}

/** Polls until the assertion holds: generous, because the CI machine may be busy (seconds, not 1 s). */
const eventually = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

const shapes = () => page.locator('[data-testid="shape-list"] li[data-kind]');

async function shapeTexts(): Promise<string[]> {
  return (await shapes().allTextContents()).map((t) => t.replace(/[◉◌]/g, '').trim());
}

async function saved() {
  await page.getByTestId('save-state').filter({ hasText: /^Saved$|All changes saved/ }).waitFor();
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

async function shot(name: string) {
  await page.waitForTimeout(250); // let the last frame and thumbnails paint
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

beforeAll(async () => {
  requireBrowserAndBuild();
  studio = await startStudio();
  await writeTestImages(join(studio.tmp, 'photos'), 3, IMG_W, IMG_H);
  // a different picture for the upload (same name as an imported one, different content)
  await writeTestImages(join(studio.tmp, 'extra'), 1, 640, 480);
  ({ context, page } = await openBrowser(studio.tmp));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await studio?.stop();
});

describe('labeling journey', () => {
  it('creates a project, imports images and adds classes', async () => {
    await page.goto(studio.url);
    await page.getByTestId('projects-screen').waitFor();
    expect(page.url()).not.toContain('token='); // traded for a cookie
    await shot('start');
    await page.getByTestId('create-dir').fill(join(studio.tmp, 'project'));
    await page.getByTestId('create-name').fill('Journey');
    await page.getByTestId('create-project').click();
    // The "Open project" form is always there; wait for the card of the project just created.
    await page.getByTestId('current-project').filter({ hasText: 'Journey' }).waitFor();

    await page.getByTestId('import-paths').fill(join(studio.tmp, 'photos'));
    await page.getByTestId('import-start').click();
    await eventually(() => page.getByTestId('import-summary').textContent(), 30_000).toContain('Imported 3 images');
    await shot('projects');

    // The browser cannot hand paths to a server: picked (or dropped) files are uploaded, then imported.
    await page.getByTestId('upload-input').setInputFiles(join(studio.tmp, 'extra', 'photo-1.jpg'));
    await eventually(() => page.getByTestId('import-summary').textContent(), 30_000).toContain('Imported 1 image');

    await page.getByTestId('nav-classes').click();
    for (const name of ['cat', 'dog']) {
      await page.getByTestId('classes-new-name').fill(name);
      await page.getByTestId('classes-add').click();
      await page.getByTestId(`class-row-${name}`).waitFor();
    }
    await saved();

    await page.getByTestId('nav-gallery').click();
    await eventually(() => page.locator('[data-testid^="thumb-"]').count()).toBe(4);
    await shot('gallery');
  }, 120_000);

  it('draws a box, a polygon and a brush mask and assigns classes with hotkeys', async () => {
    await page.locator('[data-testid^="thumb-"]').first().click();
    await page.getByTestId('editor-canvas').waitFor();
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('photo-1.jpg');
    await page.waitForTimeout(300);

    await page.keyboard.press('r');
    await drag([[80, 80], [200, 180], [320, 270]]);
    await eventually(shapeTexts).toEqual(['Box · cat']);
    await page.keyboard.press('2'); // the new box is selected: 2 makes it a dog
    await eventually(shapeTexts).toEqual(['Box · dog']);

    await page.keyboard.press('Escape');
    await page.keyboard.press('p');
    for (const [x, y] of [[400, 100], [560, 120], [540, 300], [420, 290]] as [number, number][]) await click(x, y);
    await click(400, 100); // back on the first point closes the polygon
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · dog']);
    await page.keyboard.press('1');
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat']);

    await page.keyboard.press('Escape');
    await page.keyboard.press('b');
    await drag([[150, 420], [220, 440], [300, 450]]);
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat', 'Mask · cat']);
    await saved();
    await shot('editor');
  }, 120_000);

  it('undoes and redoes edits', async () => {
    await page.keyboard.press('Control+z');
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat']);
    await page.keyboard.press('Control+Shift+Z');
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat', 'Mask · cat']);
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+y');
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat', 'Mask · cat']);
    await saved();
  }, 60_000);

  it('moves to the next image and back', async () => {
    await page.keyboard.press('d');
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('photo-2.jpg');
    await eventually(shapeTexts).toEqual([]);
    await page.keyboard.press('a');
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('photo-1.jpg');
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat', 'Mask · cat']);
  }, 60_000);

  it('finds everything saved after a reload', async () => {
    await page.reload();
    // the reload lands on the view it left (issue 18): the editor, on the same image
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('photo-1.jpg');
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat', 'Mask · cat']);

    const { ids } = await api<{ ids: number[] }>('images.ids', {});
    const { items } = await api<{ items: Ann[] }>('annotations.list', { imageId: ids[0] });
    const box = items.find((a) => a.geometry.kind === 'box')!.geometry;
    // drawn from (80,80) to (320,270) in image pixels; screen rounding allows a pixel or two
    expect(Math.abs(box.x! - 80)).toBeLessThan(2);
    expect(Math.abs(box.y! - 80)).toBeLessThan(2);
    expect(Math.abs(box.w! - 240)).toBeLessThan(2);
    expect(Math.abs(box.h! - 190)).toBeLessThan(2);
    const poly = items.find((a) => a.geometry.kind === 'polygon')!.geometry;
    expect(poly.rings![0]).toHaveLength(8);
    const mask = items.find((a) => a.geometry.kind === 'mask')!.geometry;
    expect(mask.rle!.size).toEqual([IMG_H, IMG_W]);
    await shot('editor-after-reload');
  }, 60_000);

  it('deletes a class with its annotations and undoes that', async () => {
    await page.getByTestId('nav-classes').click();
    await page.getByTestId('class-delete-dog').click();
    await eventually(() => page.getByTestId('confirm-count').textContent()).toBe('1');
    await shot('classes-delete-confirm');
    await page.getByTestId('confirm-ok').click();
    await eventually(() => page.getByTestId('class-row-dog').count()).toBe(0);
    await page.getByTestId('classes-undo').click();
    await page.getByTestId('class-row-dog').waitFor();
    await eventually(() => page.getByTestId('class-row-dog').locator('td.num').textContent()).toBe('1');
    await shot('classes');

    await page.getByTestId('nav-editor').click();
    await eventually(shapeTexts).toEqual(['Box · dog', 'Polygon · cat', 'Mask · cat']);
  }, 60_000);

  it('shows the shortcut sheet on F1 and remaps a key', async () => {
    await page.keyboard.press('F1');
    await page.getByTestId('shortcut-sheet').waitFor();
    await shot('shortcuts');
    await page.getByTestId('rebind-tool.polygon').click();
    await page.keyboard.press('w');
    await eventually(() => page.getByTestId('rebind-tool.polygon').textContent()).toBe('W');
    await page.keyboard.press('Escape');
    await eventually(() => page.getByTestId('shortcut-sheet').count()).toBe(0);
    await page.keyboard.press('v');
    await page.keyboard.press('w');
    await eventually(() => page.getByTestId('tool-polygon').getAttribute('class')).toContain('on');
  }, 30_000);
});
