// Training on tiles (issue 17): a project of 600×400 photos with 8–12 px objects is planned on tiles (their
// objects would be 5–8 px on the whole photo at 384 px), `hst-studio train --dry-run` prints the tiles, and a run
// in fast mode (each tile its own feature-cache entry) and one in full mode train on the tiles and save
// versions whose spec says so, through both ways in: trainProject with the CLI's plan, and the Fine-tune button's
// train job. The runs use a shallow random ViT at 64 px, so each takes seconds.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTraining, trainJobConfig } from '../../src-main/core/app/train-service';
import { initCompute } from '../../src-main/core/compute/engine';
import type { FromWorker } from '../../src-main/core/jobs/protocol';
import { runTrainJob, TrainJobConfig } from '../../src-main/core/jobs/train-job';
import type { Dataset } from '../../src-main/core/datasets/types';
import { createProject, openProject } from '../../src-main/core/store/project';
import type { TaskModelSpec } from '../../src-main/core/task-model/model-spec';
import { formatPlan } from '../../src-main/core/training/plan';
import { tileCount } from '../../src-main/core/training/tiles';
import { planProject, trainProject, type TrainJobEvent, type TrainProjectOptions } from '../../src-main/core/training/train-project';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'hst-tiles-data-'));
const prevDataDir = process.env.HST_DATA_DIR;
let project: string;
const PHOTOS = 4; // 3 train, 1 val
const W = 600;
const H = 400;

/** photos with 4 square objects each, of 8, 10 and 12 px (boxes in the photo's pixels) */
async function makeProject(dir: string): Promise<void> {
  const src = join(dir, '..', 'photos');
  mkdirSync(src, { recursive: true });
  const ds: Dataset = { images: [], classes: [{ name: 'dot' }, { name: 'chip' }], annotations: [], issues: [] };
  for (let i = 0; i < PHOTOS; i++) {
    const rects: string[] = [];
    const key = `p${i}`;
    for (let j = 0; j < 4; j++) {
      const s = [8, 10, 12][(i + j) % 3];
      const x = 40 + j * 137 + i * 11;
      const y = 30 + ((j * 97 + i * 53) % 320);
      const cls = (i + j) % 2 ? 'chip' : 'dot';
      rects.push(`<rect x="${x}" y="${y}" width="${s}" height="${s}" fill="${cls === 'dot' ? '#d22' : '#22d'}"/>`);
      ds.annotations.push({ imageKey: key, className: cls, geometry: { kind: 'box', x, y, w: s, h: s } });
    }
    const file = join(src, `${key}.png`);
    await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="#9a8"/>${rects.join('')}</svg>`)).png().toFile(file);
    ds.images.push({ key, fileName: `${key}.png`, absPath: file, width: W, height: H, split: i === PHOTOS - 1 ? 'val' : 'train' });
  }
  const store = createProject(dir, { name: 'tiles' });
  await store.importDataset(ds, { mode: 'copy' });
  store.close();
}

beforeAll(async () => {
  process.env.HST_DATA_DIR = dataDir;
  await initCompute({ backend: 'cpu' });
  project = join(mkdtempSync(join(tmpdir(), 'hst-tiles-')), 'project');
  await makeProject(project);
}, 60_000);
afterAll(() => {
  if (prevDataDir === undefined) delete process.env.HST_DATA_DIR;
  else process.env.HST_DATA_DIR = prevDataDir;
});

/** the planner's plan (tiles of 8·384/16 = 192 px at 384 px), run at 64 px for a few steps, as `hst-studio train` runs it */
async function quickRun(mode: 'fast' | 'full', steps: number) {
  const plan = await planProject(project, { backbone: 'random', dataDir });
  const o: TrainProjectOptions = {
    project, backbone: 'random', side: 'classification', size: 64, steps, batchSize: 2, seed: 2, mode, dataDir, checkpointEvery: 0,
    randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1 },
    plan: { ...plan, size: 64, steps, batchSize: 2, evalEvery: 0 },
  };
  const events: TrainJobEvent[] = [];
  const res = await trainProject(o, { onEvent: (e) => events.push(e) });
  const store = openProject(project);
  const v = store.getModelVersion(res.modelVersion!)!;
  store.close();
  const spec = JSON.parse(readFileSync(join(project, v.files.find((f) => f.endsWith('.json'))!), 'utf8')) as TaskModelSpec;
  return { plan, res, events, version: v, spec };
}

describe('training on tiles', () => {
  it('plans tiles for small objects in large photos, and the CLI prints them in the plan line', async () => {
    const plan = await planProject(project, { backbone: 'random', dataDir });
    expect(plan).toMatchObject({ size: 384, tiles: { size: 192, overlap: 19, perImage: 12 } });
    expect(tileCount(W, H, { size: 192, overlap: 19 })).toBe(4 * 3);
    const r = spawnSync(process.execPath, ['bin/hst-studio.js', 'train', project, '--backbone', 'random', '--dry-run'], {
      cwd: root, env: { ...process.env, HST_DATA_DIR: dataDir, HST_BACKEND: 'cpu', HST_TRAIN_PRESET: undefined }, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const line = r.stdout.split('\n')[0];
    expect(line).toContain('tiles 192 px, overlap 19, ~12/photo');
    expect(line).toBe(formatPlan(plan));
    expect(r.stdout).toMatch(/tiles of 192 px \(overlap 19\) resized to 384 px, ~12 per photo/);
    // --no-tiles: whole photos at the largest size
    const off = spawnSync(process.execPath, ['bin/hst-studio.js', 'train', project, '--backbone', 'random', '--dry-run', '--json', '--no-tiles'], {
      cwd: root, env: { ...process.env, HST_DATA_DIR: dataDir, HST_BACKEND: 'cpu' }, encoding: 'utf8', timeout: 60_000,
    });
    expect(JSON.parse(off.stdout)).toMatchObject({ size: 384, tiles: null });
  }, 60_000);

  it('fast mode caches every tile (plain + flip for train, plain for val) and saves a spec with the tiles', async () => {
    const { res, events, version, spec } = await quickRun('fast', 3);
    expect(res.status).toBe('done');
    const phases = events.filter((e) => e.type === 'phase').map((e) => (e as { message: string }).message);
    expect(phases[0]).toMatch(new RegExp(`^tiles: ${PHOTOS} photos cut into ${PHOTOS * 12} tiles of 192 px \\(overlap 19\\)`));
    // 3 train photos × 12 tiles × 2 (flip) + 1 val photo × 12 tiles
    expect(phases.some((m) => /ViT features cached: 84 computed/.test(m))).toBe(true);
    expect((events.find((e) => e.type === 'start') as { images: number }).images).toBe(36);
    expect(phases).toContain('evaluating on the val photos (each cut into tiles, predicted and merged)');
    expect(res.metrics?.bbox).toBeDefined();
    // the final metrics are on the 1 val photo (its 12 tiles predicted and merged), not on 12 tiles
    expect(res.metrics?.images).toBe(1);
    expect(spec.tiles).toEqual({ size: 192, overlap: 19 });
    expect(spec.inputSize).toBe(64);
    expect(version.config).toMatchObject({ mode: 'fast', tiles: { size: 192, overlap: 19 } });
    const store = openProject(project);
    try {
      expect(store.featureCache.stats().entries).toBe(84);
      // the cache files are named by the whole tile key (photo hash @ rectangle): 84 distinct files; tiles start
      // at x 0, 136, 272, 408 and y 0, 104, 208
      const files = (readdirSync(join(project, 'cache', 'features'), { recursive: true }) as string[]).filter((f) => f.endsWith('.safetensors'));
      expect(files).toHaveLength(84);
      expect(files.some((f) => /[0-9a-f]{64}_136_104_192_192-/.test(f))).toBe(true);
    } finally {
      store.close();
    }
  }, 60_000);

  it('the Fine-tune button: its job config carries the plan\'s tiles, and the train job (full mode) trains on them', async () => {
    const store = openProject(project);
    const plan = await planTraining(store, { backbone: 'random' });
    store.close();
    const config = trainJobConfig(project, plan);
    expect(config.tiles).toEqual({ size: 192, overlap: 19 });
    expect(TrainJobConfig.safeParse({ project, tiles: { size: 64, overlap: 64 } }).success).toBe(false);
    const posted: FromWorker[] = [];
    const done = await runTrainJob('j1', {
      ...config, backend: 'cpu', mode: 'full', size: 64, steps: 2, batchSize: 2, evalEvery: 0, checkpointEvery: 1, side: 'classification',
      randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1 },
    }, (m) => posted.push(m), new AbortController().signal);
    expect(done).toMatchObject({ type: 'done', status: 'ok' });
    const messages = posted.map((m) => (m as { message?: string }).message ?? '');
    expect(messages.some((m) => /^tiles: 4 photos cut into 48 tiles of 192 px/.test(m))).toBe(true);
    expect(messages.some((m) => /started at step 0\/2/.test(m))).toBe(true);
    const again = openProject(project);
    const v = again.getModelVersion((done as { result: { modelVersion: number } }).result.modelVersion)!;
    again.close();
    const spec = JSON.parse(readFileSync(join(project, v.files.find((f) => f.endsWith('.json'))!), 'utf8')) as TaskModelSpec;
    expect(spec.tiles).toEqual({ size: 192, overlap: 19 });
    expect(v.config).toMatchObject({ mode: 'full', tiles: { size: 192, overlap: 19 } });
    // its checkpoints were trained on tiles: resuming them on whole photos is refused, saying why
    await expect(trainProject({
      project, backbone: 'random', resume: true, tiles: null, mode: 'full', size: 64, steps: 3, batchSize: 2, side: 'classification', dataDir,
      randomVit: { embed_dim: 32, num_heads: 2, depth: 4 }, heads: { fpnWidth: 8, towerDepth: 1 },
    })).rejects.toThrow(/--resume: the checkpoint was trained on tiles of 192 px, this run on whole photos/);
  }, 60_000);
});
