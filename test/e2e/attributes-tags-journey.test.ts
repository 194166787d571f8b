// Attributes and tags in a real browser against the built `hst-studio serve`: define a class's attributes on the
// Classes screen, select a shape in the editor and set a flag and an attribute in the side panel, tag the image
// from the keyboard, reload and find all of it again (panel, gallery tag filter, API); then export the project
// as COCO and import it into a second project, where the flag, attribute and tag are still there.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDataset } from '../../src-main/core/datasets/write-dataset';
import { openProject } from '../../src-main/core/store/project';
import { openBrowser, requireBrowserAndBuild, SCREENSHOTS, startStudio, writeTestImages, type Studio } from './studio-harness';

let studio: Studio;
let context: BrowserContext;
let page: Page;
let imageIds: number[] = [];
let projectDir = '';

interface Ann {
  id: string;
  flags?: Record<string, boolean>;
  attributes?: Record<string, unknown>;
}

async function api<T>(method: string, body: unknown): Promise<T> {
  return page.evaluate(
    async ([m, b]) => {
      const r = await fetch(`api/${m}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      const j = await r.json();
      if (!r.ok) throw new Error(`${m}: ${JSON.stringify(j)}`);
      return j;
    },
    [method, body] as const,
  ) as Promise<T>;
}
const eventually = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

async function openFirstImage() {
  await page.getByTestId('nav-gallery').click();
  await page.getByTestId('gallery-screen').waitFor();
  await page.getByTestId(`thumb-${imageIds[0]}`).click();
  await page.locator('[data-testid="shape-list"] li[data-kind]').first().waitFor();
}

beforeAll(async () => {
  requireBrowserAndBuild();
  studio = await startStudio();
  const photos = await writeTestImages(join(studio.tmp, 'photos'), 2, 320, 240);
  ({ context, page } = await openBrowser(studio.tmp));
  await page.goto(studio.url);
  await page.getByTestId('projects-screen').waitFor();
  projectDir = join(studio.tmp, 'project');
  await api('project.create', { dir: projectDir, name: 'Attributes' });
  await api('images.import', { paths: photos });
  for (const until = Date.now() + 30_000; imageIds.length < 2; await page.waitForTimeout(100)) {
    if (Date.now() > until) throw new Error('the import of the test images did not finish in 30 s');
    imageIds = (await api<{ ids: number[] }>('images.ids', {})).ids;
  }
  const t = Date.now();
  await api('annotations.apply', { changeset: { classes: { created: [{ id: 1, name: 'car', color: '#4f9dff', hotkey: null, order: 0 }] } } });
  await api('annotations.apply', {
    changeset: { created: [{ id: 'car1', imageId: imageIds[0], classId: 1, geometry: { kind: 'box', x: 40, y: 40, w: 100, h: 60 }, source: 'human', score: null, modelVersion: null, createdAt: t, updatedAt: t }] },
  });
  // a reload keeps the view it was on (views have addresses): go to the gallery from there
  await page.reload();
  await page.getByTestId('nav-gallery').click();
  await page.getByTestId('gallery-screen').waitFor();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await studio?.stop();
});

describe('attributes and tags journey', () => {
  it('defines a select attribute for a class on the Classes screen', async () => {
    await page.getByTestId('nav-classes').click();
    await page.getByTestId('class-attributes-car').click();
    await page.getByTestId('attrdef-add').click();
    await page.getByTestId('attrdef-name-0').fill('color');
    await page.getByTestId('attrdef-type-0').selectOption('select');
    await page.getByTestId('attrdef-options-0').fill('red, blue');
    await page.getByTestId('attrdef-save').click();
    await eventually(async () => (await api<{ classes: { attributes?: unknown }[] }>('classes.list', {})).classes[0].attributes).toEqual([
      { name: 'color', type: 'select', options: ['red', 'blue'] },
    ]);
  }, 30_000);

  it('sets a flag and the attribute on the selected shape, and tags the image from the keyboard', async () => {
    await openFirstImage();
    await page.locator('[data-testid="shape-list"] li[data-kind]').first().click();
    const panel = page.getByTestId('shape-attributes');
    await panel.getByTestId('flag-occluded').locator('input').check();
    await panel.getByTestId('attr-color').locator('select').selectOption('blue');
    await page.keyboard.press('Shift+T');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('tag-input');
    await page.keyboard.type('night');
    await page.keyboard.press('Enter');
    await page.getByTestId('tag-night').waitFor();
    await eventually(async () => (await api<{ items: Ann[] }>('annotations.list', { imageId: imageIds[0] })).items[0]).toMatchObject({
      flags: { occluded: true }, attributes: { color: 'blue' },
    });
    await page.screenshot({ path: join(SCREENSHOTS, 'editor-attributes-tags.png') });
    // undo takes the tag off, redo puts it back (one history with the shapes)
    await page.keyboard.press('Escape'); // leaves the tag field: the editor's keys work again
    await page.keyboard.press('Control+z');
    await eventually(async () => (await api<{ tags?: string[] }>('images.get', { id: imageIds[0] })).tags).toBeUndefined();
    await page.keyboard.press('Control+Shift+Z');
    await eventually(async () => (await api<{ tags?: string[] }>('images.get', { id: imageIds[0] })).tags).toEqual(['night']);
  }, 30_000);

  it('finds flag, attribute and tag after a reload, and the gallery filters by the tag', async () => {
    await page.getByTestId('save-state').filter({ hasText: /^Saved$|All changes saved/ }).waitFor();
    await page.reload();
    await page.getByTestId('nav-gallery').click(); // the reload stays on the editor (views have addresses)
    await page.getByTestId('gallery-screen').waitFor();
    await page.getByTestId('filter-tag').selectOption('night');
    await eventually(() => page.locator('[data-testid^="thumb-"]').count()).toBe(1);
    await page.getByTestId(`thumb-${imageIds[0]}`).waitFor();
    await page.getByTestId('filter-tag').selectOption({ label: 'All tags' });
    await eventually(() => page.locator('[data-testid^="thumb-"]').count()).toBe(2);
    await openFirstImage();
    await page.getByTestId('tag-night').waitFor();
    await page.locator('[data-testid="shape-list"] li[data-kind]').first().click();
    const panel = page.getByTestId('shape-attributes');
    expect(await panel.getByTestId('flag-occluded').locator('input').isChecked()).toBe(true);
    expect(await panel.getByTestId('flag-crowd').locator('input').isChecked()).toBe(false);
    expect(await panel.getByTestId('attr-color').locator('select').inputValue()).toBe('blue');
  }, 30_000);

  it('keeps them through a COCO export and an import into another project', async () => {
    const out = join(studio.tmp, 'coco-out');
    // the export reads the open project (WAL: a second reader is fine while the server holds it)
    const store = openProject(projectDir);
    try {
      await writeDataset('coco', store.toDataset(), out);
    } finally {
      store.close();
    }
    await api('project.create', { dir: join(studio.tmp, 'second'), name: 'Second' });
    const { jobId } = await api<{ jobId: string }>('datasets.import', { path: out /* the COCO export folder (instances_<split>.json) */, format: 'coco' });
    expect(jobId).toBeTruthy();
    let ids: number[] = [];
    await eventually(async () => (ids = (await api<{ ids: number[] }>('images.ids', {})).ids).length, 30_000).toBe(2);
    const tagged = await api<{ ids: number[] }>('images.ids', { tag: 'night' });
    expect(tagged.ids).toHaveLength(1);
    const anns = (await api<{ items: Ann[] }>('annotations.list', { imageId: tagged.ids[0] })).items;
    expect(anns).toHaveLength(1);
    expect(anns[0]).toMatchObject({ flags: { occluded: true }, attributes: { color: 'blue' } });
    const cls = (await api<{ classes: { attributes?: unknown }[] }>('classes.list', {})).classes[0];
    expect(cls.attributes).toEqual([{ name: 'color', type: 'select', options: ['blue'] }]);
    expect(ids).toContain(tagged.ids[0]);
  }, 60_000);
});
