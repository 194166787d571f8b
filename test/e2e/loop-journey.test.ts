// The loop in a browser (server mode, Chromium): demo project → Fine-tune (HST_TRAIN_PRESET=tiny: 64 px,
// 5 steps, shallow random ViT, so it takes seconds) → metrics and charts → predict unlabeled → accept
// suggestions → label one more image → an incremental update → export tfjs and ONNX. Screenshots of the
// Train screen, Models screen and suggestions go to test/e2e/screenshots/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { closeStudioOn, openStudioOn, requireBrowserAndBuild, SCREENSHOTS, type Studio } from './studio-harness';

let studio: Studio;
let context: BrowserContext;
let page: Page;
let project: string;

/**
 * Where the edit-then-accept block sits at the current window size: every button inside the side panel and the
 * window, and its text spread across the panel rather than squeezed beside the buttons.
 */
async function editBlockLayout() {
  return page.evaluate(() => {
    const block = document.querySelector('[data-testid="suggest-editing"]')!;
    const panel = block.closest('aside.panel')!;
    const b = block.getBoundingClientRect();
    const p = panel.getBoundingClientRect();
    const inside = (r: DOMRect, o: DOMRect) => r.left >= o.left - 0.5 && r.right <= o.right + 0.5;
    const buttons = Array.from(block.querySelectorAll('button')).map((el) => {
      const r = el.getBoundingClientRect();
      return { text: el.textContent?.trim(), inPanel: inside(r, p), inWindow: r.left >= 0 && r.right <= window.innerWidth, width: r.width };
    });
    const text = block.querySelector('p, span')!.getBoundingClientRect();
    return { buttons, blockInPanel: inside(b, p), textShare: text.width / p.width, panelWidth: p.width };
  });
}

async function shot(name: string) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

beforeAll(async () => {
  requireBrowserAndBuild();
  process.env.HST_TRAIN_PRESET = 'tiny';
  // the project is made first so serve can open it; startStudio's temp folder is made inside it
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  project = join(mkdtempSync(join(tmpdir(), 'hst-loop-e2e-')), 'demo');
  const store = await createDemoProject(project, { count: 8 });
  try {
    // two train images unlabeled (the demo labels everything); quick incremental updates
    const train = store.listImages({ split: 'train', limit: 2 }).items;
    store.apply({ created: [], updated: [], deleted: train.flatMap((im) => store.annotationsOf(im.id)) });
    store.setSettings({ incremental: { debounceMs: 300, steps: 2, batchSize: 2 } });
  } finally {
    store.close();
  }
  ({ studio, context, page } = await openStudioOn(project));
}, 180_000);

afterAll(async () => {
  await closeStudioOn({ studio, context, project });
});

describe('loop journey', () => {
  it('fine-tunes with one button (after choosing the demo backbone) and shows metrics and charts', async () => {
    await page.click('[data-testid="nav-train"]');
    await page.waitForSelector('[data-testid="train-plan-error"]');
    expect(await page.textContent('[data-testid="train-plan-error"]')).toMatch(/pretrained image model \(the backbone\), and none is installed/);
    await page.click('[data-testid="use-random-backbone"]');
    const plan = await page.textContent('[data-testid="train-plan"]');
    expect(plan).toMatch(/64 px · 5 steps/);
    expect(plan).toMatch(/random \(untrained — demo only\)/);
    expect(await page.textContent('[data-testid="train-side"]')).toBe('side widths small');
    // Advanced: the side widths the user picks come back in the plan that Fine-tune then runs
    await page.click('text=Advanced');
    await page.selectOption('[data-testid="train-side-select"]', 'lite');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-side"]')?.textContent === 'side widths lite');
    await page.click('[data-testid="fine-tune"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-state"]')?.textContent === 'done', null, { timeout: 300_000 });
    await page.waitForSelector('[data-testid="train-eval"]', { timeout: 120_000 });
    expect(await page.locator('[data-testid="chart-loss"] canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="per-class-ap"] tbody tr').count()).toBe(3);
    expect(await page.locator('[data-testid="confusion"] tbody tr').count()).toBe(4);
    expect(await page.textContent('[data-testid="eval-ap50"]')).toMatch(/^\d\.\d{3}$/);
    await shot('loop-train');
  }, 420_000);

  it('lists the model version and predicts the unlabeled images', async () => {
    await page.click('[data-testid="nav-models"]');
    await page.waitForSelector('[data-testid="model-row-1"]');
    expect(await page.textContent('[data-testid="model-row-1"]')).toMatch(/active/);
    await page.click('[data-testid="predict-unlabeled"]');
    await page.waitForFunction(() => /predicted 2 images/.test(document.querySelector('[data-testid="predict-status"]')?.textContent ?? ''), null, { timeout: 120_000 });
    await shot('loop-models');
  }, 180_000);

  it('opens "label next", shows dashed suggestions and accepts them; then labels one more image', async () => {
    await page.click('[data-testid="nav-gallery"]');
    await page.click('[data-testid="label-next"]');
    await page.waitForSelector('[data-testid="suggestion-list"]');
    await page.locator('[data-testid="suggest-threshold"]').fill('0');
    const n = await page.locator('[data-testid="suggestion-list"] li').count();
    expect(n).toBeGreaterThan(0);
    await shot('loop-suggestions');
    const shapesBefore = await page.locator('[data-testid="shape-list"] li[data-kind]').count();
    await page.click('[data-testid="suggest-accept"]');
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid="shape-list"] li[data-kind]').length === k + 1, shapesBefore);
    await page.click('[data-testid="suggest-accept-all"]');
    await page.waitForFunction((want) => document.querySelectorAll('[data-testid="shape-list"] li[data-kind]').length === want, shapesBefore + n);
    await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]')?.textContent !== 'Saving…');
    // the next unlabeled image: edit its best suggestion, then accept the edited shape
    await page.click('[data-testid="next-image"]');
    await page.waitForSelector('[data-testid="suggest-edit"]');
    const before = await page.locator('[data-testid="shape-list"] li[data-kind]').count();
    await page.click('[data-testid="suggest-edit"]');
    await page.waitForSelector('[data-testid="suggest-editing"]');
    // the issue saw Cancel drawn off-screen and the text squeezed into a narrow column at 1440 px
    for (const width of [1440, 1280, 1920]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(100);
      const layout = await editBlockLayout();
      expect(layout.buttons.map((b) => b.text)).toEqual(['Accept edited', 'Cancel']);
      for (const b of layout.buttons) expect({ window: width, ...b }).toMatchObject({ inPanel: true, inWindow: true });
      expect(layout.blockInPanel).toBe(true);
      expect(layout.textShare, `text width share of the panel at ${width} px`).toBeGreaterThan(0.6);
      if (width === 1440) await shot('loop-suggestion-edit-1440');
    }
    await page.setViewportSize({ width: 1360, height: 820 });
    await page.click('[data-testid="suggest-accept-edited"]');
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid="shape-list"] li[data-kind]').length === k + 1, before);
    expect(await page.locator('[data-testid="suggest-editing"]').count()).toBe(0);
  }, 120_000);

  it('runs an incremental update after the new labels and says so in the status bar', async () => {
    await page.waitForFunction(() => /model updated \((fast|full) mode, [\d.]+ s\)|candidate kept: /.test(document.querySelector('[data-testid="incremental-status"]')?.textContent ?? ''), null, { timeout: 400_000 });
    await shot('loop-incremental');
  }, 420_000);

  it('exports tfjs and ONNX from the Export dialog, and names the problem when the folder exists', async () => {
    await page.click('[data-testid="nav-models"]');
    await page.click('[data-testid="models-export"]');
    await page.check('[data-testid="export-where-folder"]'); // a folder on the studio machine (the default is a download)
    for (const fmt of ['tfjs', 'onnx'] as const) {
      const out = join(studio.tmp, `export-${fmt}`);
      await page.check(`[data-testid="export-format-${fmt}"]`);
      await page.fill('[data-testid="export-path"]', out);
      await page.click('[data-testid="export-run"]');
      await page.waitForSelector('[data-testid="export-result"]', { timeout: 120_000 });
      await page.waitForFunction(() => document.querySelector('[data-testid="export-run"]') !== null, null, { timeout: 120_000 });
      expect(await page.textContent('[data-testid="export-result"]')).toMatch(new RegExp(`exported model version \\d+ as ${fmt}`));
      expect(existsSync(join(out, fmt === 'tfjs' ? 'model.json' : 'model.onnx'))).toBe(true);
    }
    await page.click('[data-testid="export-run"]'); // same ONNX folder again
    await page.waitForFunction(() => !/exported/.test(document.querySelector('[data-testid="export-result"]')?.textContent ?? 'exported'), null, { timeout: 60_000 });
    expect(await page.textContent('[data-testid="export-result"]')).toMatch(/exist/);
    // the same model as a browser download (zip), issue 18
    await page.check('[data-testid="export-where-download"]');
    await page.check('[data-testid="export-format-tfjs"]');
    const downloading = page.waitForEvent('download', { timeout: 120_000 });
    await page.click('[data-testid="export-run"]');
    expect((await downloading).suggestedFilename()).toMatch(/-model-v\d+-tfjs\.zip$/);
    await page.click('[data-testid="export-close"]');
  }, 300_000);

  it('pauses a fine-tune from the Train screen and resumes it to a new model version', async () => {
    await page.click('[data-testid="nav-train"]');
    await page.waitForSelector('[data-testid="train-plan"]');
    await page.click('[data-testid="fine-tune"]');
    await page.click('[data-testid="train-pause"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-state"]')?.textContent === 'paused', null, { timeout: 300_000 });
    expect(await page.textContent('[data-testid="train-resume"]')).toMatch(/Resume/);
    expect(await page.textContent('[data-testid="train-status-line"]')).toMatch(/fine-tune paused at step \d+/);
    await page.click('[data-testid="train-resume"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-state"]')?.textContent === 'done', null, { timeout: 300_000 });
    expect(await page.textContent('[data-testid="train-message"]')).toMatch(/model version \d+ saved/i);
  }, 420_000);
});
