// A new user's first fine-tune in a browser (server mode, Chromium): no backbone installed and no val split.
// The Fine-tune button opens the backbone manager with the one recommended choice; the user imports a ViT
// .safetensors file they have (file picker → upload), it becomes the default, the plan names it and shows the
// val images the studio holds out; Fine-tune runs (HST_TRAIN_PRESET=tiny) and saves that hold-out as the
// project's val split. Screenshot: test/e2e/screenshots/backbone-first-run.png.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { serializeSafetensors } from '../../src-main/core/io/safetensors';
import { createRandomHst } from '../../src-main/core/model/hst';
import { exportState } from '../../src-main/core/model/weights';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { openProject } from '../../src-main/core/store/project';
import { closeStudioOn, openStudioOn, requireBrowserAndBuild, SCREENSHOTS, type Studio } from './studio-harness';

let studio: Studio;
let context: BrowserContext;
let page: Page;
let project: string;
let vitFile: string;

beforeAll(async () => {
  requireBrowserAndBuild();
  process.env.HST_TRAIN_PRESET = 'tiny';
  const root = mkdtempSync(join(tmpdir(), 'hst-bb-e2e-'));
  project = join(root, 'demo');
  const store = await createDemoProject(project, { count: 10 });
  try {
    // a folder without a val split (as a VOC folder without ImageSets imports)
    store.setSplit(store.listImages({ split: 'val' }).items.map((i) => i.id), 'train');
  } finally {
    store.close();
  }
  // the user's own ViT file: timm names, random weights (a small ViT, so the tiny run takes seconds)
  await initCompute({ backend: 'cpu' });
  const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 64, depth: 4, num_heads: 1, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 1, 1] }, 5);
  vitFile = join(root, 'my-vit.safetensors');
  writeFileSync(vitFile, serializeSafetensors(exportState(m, (e) => e.backbone), { format: 'pt' }));
  m.dispose();
  ({ studio, context, page } = await openStudioOn(project));
}, 180_000);

afterAll(async () => {
  await closeStudioOn({ studio, context, project });
});

describe('backbone first run', () => {
  it('the first Fine-tune opens the manager with one recommended choice; importing a file makes it the default', async () => {
    await page.click('[data-testid="nav-train"]');
    await page.waitForSelector('[data-testid="train-plan-error"]');
    await page.click('[data-testid="fine-tune"]');
    await page.waitForSelector('[data-testid="backbone-manager"]');
    expect(await page.textContent('[data-testid="backbone-first-run"]')).toMatch(/we recommend\s+ViT-Ti\/16 AugReg ImageNet-21k \(39 MB, Apache-2\.0\): Fast on any CPU/);
    // one choice: the recommended entry only, the rest behind "Show all"
    expect(await page.locator('[data-testid^="catalogue-"]').count()).toBe(1);
    expect(await page.locator('[data-testid="download-vit-tiny-16-augreg-in21k"]').count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'backbone-first-run.png') });
    await page.setInputFiles('[data-testid="backbone-file"]', vitFile);
    await page.waitForSelector('[data-testid="installed-my-vit"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="installed-my-vit"]')).toMatch(/default[\s\S]*D=64, depth 4, patch 16 · imported file/);
    await page.click('[data-testid="backbone-show-all"]');
    expect(await page.locator('[data-testid^="catalogue-"]').count()).toBeGreaterThan(5);
    await page.click('[data-testid="backbone-close"]');
    await page.waitForSelector('[data-testid="train-plan"]');
    expect(await page.textContent('[data-testid="train-plan"]')).toMatch(/backbone\s+my-vit/);
  }, 180_000);

  it('shows the held-out val split, fine-tunes, and saves it as the project\'s val split', async () => {
    const holdout = await page.textContent('[data-testid="train-holdout"]');
    expect(holdout).toMatch(/holds out 2 labelled images \(15 %/);
    expect(await page.textContent('[data-testid="train-plan"]')).toMatch(/8 train \/ 2 val images/);
    expect(await page.textContent('[data-testid="train-estimate"]')).toMatch(/^(about \d+ (s|min)|a few seconds) on this machine$/);
    await page.click('[data-testid="fine-tune"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-state"]')?.textContent === 'done', null, { timeout: 300_000 });
    const store = openProject(project);
    try {
      expect(store.listImages({ split: 'val' }).total).toBe(2);
      const runs = store.listModelVersions();
      expect(runs.at(-1)!.config).toMatchObject({ backbone: 'my-vit' });
    } finally {
      store.close();
    }
  }, 420_000);
});
