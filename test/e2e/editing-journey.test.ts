// Editing existing shapes in a real browser against the built `hst-studio serve`: resize a box by its handle,
// drag a polygon vertex, insert a vertex on an edge, delete one with Backspace, move a brush mask (undo and
// redo that move), then reload and read the saved geometry back through the API. The project is seeded
// through the API so the journey only spends its seconds on the edits themselves.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMask, toBbox } from '../../src-main/core/geometry/rle';
import { openBrowser, requireBrowserAndBuild, SCREENSHOTS, startStudio, writeTestImages, type Studio } from './studio-harness';

const IMG_W = 800, IMG_H = 600;
let studio: Studio;
let context: BrowserContext;
let page: Page;
let imageId = 0;

interface Ann {
  id: string;
  geometry: { kind: string; x?: number; y?: number; w?: number; h?: number; rings?: number[][]; rle?: { size: [number, number]; counts: string } };
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

const saved = async () => (await api<{ items: Ann[] }>('annotations.list', { imageId })).items;
const geometryOf = async (id: string) => (await saved()).find((a) => a.id === id)!.geometry;
const eventually = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

/** Screen position of an image pixel while the image is fitted (the editor's fit: 16 px margin, centred). */
async function at(x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('editor-canvas').boundingBox())!;
  const scale = Math.min((box.width - 32) / IMG_W, (box.height - 32) / IMG_H);
  return { x: box.x + (box.width - IMG_W * scale) / 2 + x * scale, y: box.y + (box.height - IMG_H * scale) / 2 + y * scale };
}

async function drag(from: [number, number], to: [number, number]) {
  const a = await at(...from), b = await at(...to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 6 });
  await page.mouse.up();
}

async function click(x: number, y: number) {
  const p = await at(x, y);
  await page.mouse.click(p.x, p.y);
}

/** Every coordinate within `tol` image pixels (screen positions are rounded to CSS pixels). */
function near(actual: number[], expected: number[], tol = 2) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `coordinate ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tol));
}

// A 100×100 square mask at (100, 350); the polygon is a square whose vertices the test drags.
const maskBits = new Uint8Array(IMG_W * IMG_H);
for (let y = 350; y < 450; y++) maskBits.fill(1, y * IMG_W + 100, y * IMG_W + 200);
const SEED = {
  box: { kind: 'box', x: 60, y: 60, w: 200, h: 150 },
  polygon: { kind: 'polygon', rings: [[400, 80, 600, 80, 600, 240, 400, 240]] },
  mask: { kind: 'mask', rle: encodeMask(maskBits, IMG_H, IMG_W) },
} as const;

beforeAll(async () => {
  requireBrowserAndBuild();
  studio = await startStudio();
  const [photo] = await writeTestImages(join(studio.tmp, 'photos'), 1, IMG_W, IMG_H);
  ({ context, page } = await openBrowser(studio.tmp));
  await page.goto(studio.url);
  await page.getByTestId('projects-screen').waitFor();
  await api('project.create', { dir: join(studio.tmp, 'project'), name: 'Editing' });
  await api('images.import', { paths: [photo] });
  for (const until = Date.now() + 30_000; !imageId; await page.waitForTimeout(100)) {
    if (Date.now() > until) throw new Error('the import of the test image did not finish in 30 s');
    imageId = (await api<{ ids: number[] }>('images.ids', {})).ids[0] ?? 0;
  }
  const t = Date.now();
  await api('annotations.apply', { changeset: { classes: { created: [{ id: 1, name: 'thing', color: '#4f9dff', hotkey: null, order: 0 }] } } });
  await api('annotations.apply', {
    changeset: {
      created: Object.entries(SEED).map(([id, geometry], i) => ({ id, imageId, classId: 1, geometry, source: 'human', score: null, modelVersion: null, createdAt: t + i, updatedAt: t + i })),
    },
  });
  // the page still shows the Projects view (#/projects): reload into the gallery of the project just made
  await page.evaluate(() => {
    location.hash = '#/gallery';
    location.reload();
  });
  await page.getByTestId('gallery-screen').waitFor();
  await page.locator('[data-testid^="thumb-"]').first().click();
  await page.locator('[data-testid="shape-list"] li[data-kind]').nth(2).waitFor();
  await page.waitForTimeout(200); // the first frame at the fitted zoom
  await page.keyboard.press('v');
}, 120_000);

afterAll(async () => {
  await context?.close();
  await studio?.stop();
});

describe('editing journey', () => {
  it('resizes a box by its corner handle', async () => {
    await click(160, 135); // select
    await drag([260, 210], [300, 260]); // the south-east handle
    await eventually(async () => (await geometryOf('box')).w, 10_000).toBeGreaterThan(220);
    const g = await geometryOf('box');
    near([g.x!, g.y!, g.w!, g.h!], [60, 60, 240, 200]);
  }, 30_000);

  it('drags a polygon vertex, inserts one on an edge and deletes one with Backspace', async () => {
    await click(500, 160); // select
    await drag([600, 240], [640, 280]); // vertex drag
    await eventually(async () => (await geometryOf('polygon')).rings![0][4], 10_000).toBeGreaterThan(620);
    near((await geometryOf('polygon')).rings![0], [400, 80, 600, 80, 640, 280, 400, 240]);

    await drag([500, 80], [500, 40]); // the first edge's midpoint handle: a new vertex
    await eventually(async () => (await geometryOf('polygon')).rings![0].length, 10_000).toBe(10);
    near((await geometryOf('polygon')).rings![0], [400, 80, 500, 40, 600, 80, 640, 280, 400, 240]);

    await click(400, 240); // makes that vertex the active one, without moving it
    await page.keyboard.press('Backspace');
    await eventually(async () => (await geometryOf('polygon')).rings![0].length, 10_000).toBe(8);
    near((await geometryOf('polygon')).rings![0], [400, 80, 500, 40, 600, 80, 640, 280]);
  }, 30_000);

  it('moves a brush mask by dragging it, as one undoable step', async () => {
    const before = toBbox((await geometryOf('mask')).rle!);
    expect(before).toEqual([100, 350, 100, 100]);
    await drag([150, 400], [190, 430]);
    await eventually(async () => toBbox((await geometryOf('mask')).rle!)[0], 10_000).toBeGreaterThan(130);
    const moved = toBbox((await geometryOf('mask')).rle!);
    near(moved, [140, 380, 100, 100]);
    expect(moved.slice(2)).toEqual([100, 100]); // moved, not resampled
    await page.screenshot({ path: join(SCREENSHOTS, 'editor-editing.png') });

    await page.keyboard.press('Control+z');
    await eventually(async () => toBbox((await geometryOf('mask')).rle!), 10_000).toEqual(before);
    await page.keyboard.press('Control+Shift+Z');
    await eventually(async () => toBbox((await geometryOf('mask')).rle!), 10_000).toEqual(moved);
  }, 30_000);

  it('finds every edit saved after a reload', async () => {
    await page.getByTestId('save-state').filter({ hasText: /^Saved$|All changes saved/ }).waitFor();
    await page.reload(); // lands on the editor, same image (issue 18: addressable views)
    await page.getByTestId('editor-canvas').waitFor();
    await eventually(() => page.locator('[data-testid="shape-list"] li[data-kind]').count()).toBe(3);
    const items = await saved();
    expect(items.map((a) => a.id).sort()).toEqual(['box', 'mask', 'polygon']);
    const box = items.find((a) => a.id === 'box')!.geometry;
    near([box.x!, box.y!, box.w!, box.h!], [60, 60, 240, 200]);
    near(items.find((a) => a.id === 'polygon')!.geometry.rings![0], [400, 80, 500, 40, 600, 80, 640, 280]);
    near(toBbox(items.find((a) => a.id === 'mask')!.geometry.rle!), [140, 380, 100, 100]);
  }, 30_000);
});
