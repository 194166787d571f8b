// Issue 18's journey in a real browser against the built `hst-studio serve`: two projects opened one after the
// other show their own images (media URLs name the content), a class rename survives a reload, a reload lands
// on the same view and Back stays in the app, and a dataset exported as a browser download re-imports.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../core/io/read-zip';
import { openBrowser, requireBrowserAndBuild, startStudio, type Studio } from './studio-harness';

let studio: Studio;
let context: BrowserContext;
let page: Page;

const eventually = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 100 });

/** `count` plain pictures of one colour (distinct sizes, so files differ within a set). */
async function pictures(dir: string, colour: string, count: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) await sharp({ create: { width: 400 + i * 8, height: 300, channels: 3, background: colour } }).jpeg().toFile(join(dir, `pic-${i + 1}.jpg`));
}

/** Mean colour of gallery tile `id`'s thumbnail as the browser decoded it (drawn into a canvas). */
async function thumbColour(id: number): Promise<[number, number, number]> {
  const img = page.locator(`[data-testid="thumb-${id}"] img`);
  await img.waitFor();
  await eventually(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0)).toBe(true);
  return img.evaluate((el) => {
    const im = el as HTMLImageElement;
    const c = document.createElement('canvas');
    c.width = c.height = 8;
    const g = c.getContext('2d')!;
    g.drawImage(im, 0, 0, 8, 8);
    const d = g.getImageData(0, 0, 8, 8).data;
    const s = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) s[k] += d[i + k];
    return s.map((v) => Math.round(v / 64)) as [number, number, number];
  });
}

/** Colour in the middle of the editor canvas (the open image, fitted). */
async function editorColour(): Promise<[number, number, number]> {
  const box = (await page.getByTestId('editor-canvas').boundingBox())!;
  const png = await page.screenshot({ clip: { x: box.x + box.width / 2 - 4, y: box.y + box.height / 2 - 4, width: 8, height: 8 } });
  const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return [data[0], data[1], data[2]];
}

const isRed = ([r, g, b]: number[]) => r > 180 && g < 80 && b < 80;
const isBlue = ([r, g, b]: number[]) => b > 180 && r < 80 && g < 80;

async function createProject(name: string, photos: string) {
  await page.getByTestId('nav-projects').click();
  await page.getByTestId('create-dir').fill(join(studio.tmp, name));
  await page.getByTestId('create-name').fill(name);
  await page.getByTestId('create-project').click();
  await page.getByTestId('current-project').filter({ hasText: name }).waitFor();
  await page.getByTestId('import-paths').fill(photos);
  await page.getByTestId('import-start').click();
  await eventually(() => page.getByTestId('import-summary').textContent(), 30_000).toMatch(/Imported \d+ image/);
}

async function openProject(name: string) {
  await page.getByTestId('nav-projects').click();
  await page.getByTestId('open-dir').fill(join(studio.tmp, name));
  await page.getByTestId('open-dir').press('Enter');
  await page.getByTestId('current-project').filter({ hasText: name }).waitFor();
  await page.getByTestId('go-gallery').click();
  await page.getByTestId('gallery-screen').waitFor();
}

async function api<T>(method: string, body: unknown): Promise<T> {
  return page.evaluate(
    async ([m, b]) => (await fetch(`api/${m}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) })).json(),
    [method, body] as const,
  ) as Promise<T>;
}

beforeAll(async () => {
  requireBrowserAndBuild();
  studio = await startStudio();
  await pictures(join(studio.tmp, 'red'), '#e01010', 3);
  await pictures(join(studio.tmp, 'blue'), '#1010e0', 2);
  ({ context, page } = await openBrowser(studio.tmp));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await studio?.stop();
});

describe('studio UI journey (issue 18)', () => {
  it('shows each project its own images when two are opened one after the other', async () => {
    await page.goto(studio.url);
    await page.getByTestId('projects-screen').waitFor();
    await createProject('Red', join(studio.tmp, 'red'));
    await page.getByTestId('nav-gallery').click();
    expect(isRed(await thumbColour(1))).toBe(true);
    await page.getByTestId('thumb-1').click();
    await page.getByTestId('editor-canvas').waitFor();
    await eventually(async () => isRed(await editorColour())).toBe(true);

    await createProject('Blue', join(studio.tmp, 'blue'));
    await page.getByTestId('nav-gallery').click();
    // image 1 of this project has the same id as the red one: it must not come from the browser's cache
    expect(isBlue(await thumbColour(1))).toBe(true);
    await page.getByTestId('thumb-1').click();
    await eventually(async () => isBlue(await editorColour())).toBe(true);

    await openProject('Red');
    expect(isRed(await thumbColour(1))).toBe(true);

    // Back across projects: the address names the project, so Back re-opens Blue on its image
    await page.goBack(); // #/projects
    await page.getByTestId('projects-screen').waitFor();
    await page.goBack(); // Blue's editor on image 1
    await eventually(() => page.url()).toMatch(/#\/editor\/1\?p=.*Blue/);
    await eventually(async () => isBlue(await editorColour())).toBe(true);
    await page.goForward();
    await page.goForward(); // Red's gallery again
    await eventually(() => page.url()).toMatch(/#\/gallery\?p=.*Red/);
    await page.getByTestId('current-project').or(page.getByTestId('gallery-screen')).first().waitFor();
    await eventually(() => page.locator('.project-name').textContent()).toBe('Red');
    expect(isRed(await thumbColour(1))).toBe(true);
  }, 180_000);

  it('keeps a class rename through a reload, and the status bar says Saved only once it is', async () => {
    await page.getByTestId('nav-classes').click();
    await page.getByTestId('classes-new-name').fill('cat');
    await page.getByTestId('classes-add').click();
    await page.getByTestId('class-row-cat').waitFor();
    await page.getByTestId('class-name-0').fill('kitty');
    await page.getByTestId('class-name-0').press('Enter');
    await eventually(() => page.getByTestId('save-state').textContent()).toBe('Saved');
    await page.reload();
    await page.getByTestId('classes-screen').waitFor(); // the reload lands on the Classes view
    await eventually(() => page.getByTestId('class-name-0').inputValue()).toBe('kitty');
    expect((await api<{ classes: { name: string }[] }>('classes.list', {})).classes.map((c) => c.name)).toEqual(['kitty']);
  }, 60_000);

  it('gives each view an address: a reload lands on the same image, Back returns to the gallery', async () => {
    await page.getByTestId('nav-gallery').click();
    await page.getByTestId('thumb-2').click();
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('pic-2.jpg');
    expect(page.url()).toMatch(/#\/editor\/2\?p=/);
    await page.reload();
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('pic-2.jpg');
    expect(page.url()).toMatch(/#\/editor\/2\?p=/);
    await page.goBack();
    await page.getByTestId('gallery-screen').waitFor();
    expect(page.url()).toMatch(/#\/gallery\?p=/);
    expect(page.url().startsWith(studio.url.replace(/\?token=.*$/, ''))).toBe(true);
    await page.goForward();
    await eventually(() => page.getByTestId('image-name').textContent()).toContain('pic-2.jpg');
  }, 60_000);

  it('downloads a dataset export as a zip that re-imports into a new project', async () => {
    const now = Date.now();
    const box = (id: string, imageId: number) => ({ id, imageId, classId: 1, geometry: { kind: 'box', x: 20, y: 30, w: 100, h: 80 }, source: 'human', score: null, modelVersion: null, createdAt: now, updatedAt: now });
    await api('annotations.apply', { changeset: { created: [box('e1', 1), box('e2', 2), box('e3', 3)] } });
    await page.getByTestId('nav-gallery').click();
    await page.getByTestId('dataset-export').click();
    await page.getByTestId('export-format-coco').check();
    const downloading = page.waitForEvent('download', { timeout: 60_000 });
    await page.getByTestId('export-run').click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('Red-coco.zip');
    await eventually(() => page.getByTestId('export-result').textContent()).toMatch(/Exported 3 images, 3 annotations as coco/);
    const zip = join(studio.tmp, 'download.zip');
    await download.saveAs(zip);
    const entries = readZip(zip);
    const out = join(studio.tmp, 'unzipped');
    for (const [name, bytes] of entries) {
      mkdirSync(dirname(join(out, name)), { recursive: true });
      writeFileSync(join(out, name), bytes);
    }
    const json = [...entries.keys()].filter((k) => k.endsWith('.json'));
    expect(json.length).toBeGreaterThan(0);
    await page.getByTestId('export-close').click();

    await page.getByTestId('nav-projects').click();
    await page.getByTestId('create-dir').fill(join(studio.tmp, 'Again'));
    await page.getByTestId('create-name').fill('Again');
    await page.getByTestId('create-project').click();
    await page.getByTestId('current-project').filter({ hasText: 'Again' }).waitFor();
    await page.getByTestId('dataset-path').fill(join(out, json[0]));
    await page.getByTestId('dataset-import').click();
    await eventually(() => page.getByTestId('import-summary').textContent(), 30_000).toMatch(/Imported 3 images, 3 annotations and 1 classes/);
    expect((await api<{ classes: { name: string }[] }>('classes.list', {})).classes.map((c) => c.name)).toEqual(['kitty']);
    await page.getByTestId('nav-gallery').click();
    expect(isRed(await thumbColour(1))).toBe(true);
  }, 120_000);

  it('opens the Editor tab on the first image; Backspace deletes the selection; D works right after adding a class', async () => {
    await page.getByTestId('nav-editor').click();
    await eventually(() => page.getByTestId('image-name').textContent()).toMatch(/\.jpg/); // not "No image open"
    const first = await page.getByTestId('image-name').textContent();
    const shapes = page.locator('[data-testid="shape-list"] li[data-kind]');
    await eventually(() => shapes.count()).toBe(1);
    await page.getByTestId('editor-canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Backspace');
    await eventually(() => shapes.count()).toBe(0);
    await page.getByTestId('new-class-name').fill('dog');
    await page.getByTestId('new-class-name').press('Enter');
    await page.keyboard.press('d'); // the keyboard is the canvas's again: next image
    await eventually(() => page.getByTestId('image-name').textContent()).not.toBe(first);
  }, 60_000);

  it('ends a fast import (a missing folder) with its outcome and Import enabled again; Tab reaches "Choose files…"', async () => {
    await page.getByTestId('nav-projects').click();
    for (let i = 0; i < 4; i++) {
      await page.getByTestId('import-paths').fill(join(studio.tmp, `missing-${i}`));
      await page.getByTestId('import-start').click();
      await page.getByTestId('import-summary').waitFor();
      await eventually(() => page.getByTestId('import-start').isEnabled()).toBe(true);
    }
    await page.waitForTimeout(500);
    expect(await page.getByTestId('import-cancel').count()).toBe(0); // not stuck at "0% / Cancel"
    expect(await page.getByTestId('import-summary').textContent()).toMatch(/skipped 1|failed|Imported 0/);

    await page.getByTestId('import-paths').focus();
    let reached = false;
    for (let i = 0; i < 12 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'upload-input');
    }
    expect(reached).toBe(true);
  }, 60_000);
});
