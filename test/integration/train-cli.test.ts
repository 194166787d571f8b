// train → eval → predict as a user runs them (the built CLI in fresh processes), and the same training job
// through the worker thread (progress, done, cancel) so the caller's event loop never blocks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { openProject } from '../../src-main/core/store/project';
import { specPath, type TaskModelSpec } from '../../src-main/core/task-model/model-spec';
import { trainInWorker } from '../../src-main/core/jobs/worker-client';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'hst-data-')); // no backbones installed here
let project: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/hst-studio.js', ...args], { cwd: root, env: { ...process.env, HST_DATA_DIR: dataDir, HST_BACKEND: undefined }, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  project = join(mkdtempSync(join(tmpdir(), 'hst-train-cli-')), 'demo');
  const store = await createDemoProject(project, { count: 12 });
  store.close();
}, 600_000);

const SMALL = ['--steps', '2', '--size', '64', '--batch', '2', '--vit-depth', '4'];

describe('hst-studio train / eval / predict', () => {
  it('refuses to pick a random backbone silently', () => {
    const r = cli(['train', project, ...SMALL.filter((a) => a !== '--vit-depth' && a !== '4')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no pretrained backbone is installed/);
    expect(r.stderr).toMatch(/hst-studio backbone download|backbone import/);
    expect(r.stderr).toMatch(/--backbone random/);
    const bad = cli(['train', project, '--backbone', 'random', '--side', 'huge', ...SMALL]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--side must be one of classification, dense, small, lite, got 'huge'/);
  });

  it('trains, stores a model version, evaluates and predicts', () => {
    const t = cli(['train', project, '--backbone', 'random', '--side', 'lite', ...SMALL]);
    expect(t.stderr + t.stdout).not.toMatch(/Error:/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/RANDOM \(untrained\) backbone/);
    expect(t.stdout).toMatch(/step 2\/2/);
    expect(t.stdout).toMatch(/model version 1 saved/);

    const store = openProject(project);
    try {
      const [v] = store.listModelVersions();
      expect(v.task).toBe('detect+instance+semantic');
      expect(v.datasetRevision).toBe(store.revision());
      const weights = v.files.find((f) => f.endsWith('model.safetensors'));
      expect(weights).toBeDefined();
      const spec = JSON.parse(readFileSync(specPath(join(project, weights!)), 'utf8')) as TaskModelSpec;
      expect(spec.hst.m_embed_dims).toEqual([24, 48, 64, 72]); // --side lite
      const cfg = v.config as { trainableParams: number; backend: string; backbone: string; seconds: number };
      expect(cfg.trainableParams).toBeGreaterThan(1000);
      expect(cfg.backbone).toMatch(/random/);
      expect(typeof cfg.backend).toBe('string');
      expect(v.metrics).toHaveProperty('bbox.AP50');
      expect(v.metrics).toHaveProperty('semantic.mIoU');
      expect(store.listTrainingRuns()[0].status).toBe('done');
    } finally {
      store.close();
    }

    const e = cli(['eval', project, '--json']);
    expect(e.code).toBe(0);
    const m = JSON.parse(e.stdout);
    expect(m.images).toBeGreaterThan(0);
    for (const k of ['bbox', 'segm']) expect(m[k].stats).toHaveLength(12);
    expect(m.semantic.perClassIoU).toHaveLength(4);
    expect(m.backbone.kind).toBe('random');
    const text = cli(['eval', project]);
    expect(text.stdout).toContain('Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]');
    expect(text.stdout).toMatch(/mIoU/);

    const out = join(mkdtempSync(join(tmpdir(), 'pred-')), 'results.json');
    const p = cli(['predict', project, '--split', 'all', '--out', out, '--score', '0.01']);
    expect(p.code).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { image_id: number; category_id: number; bbox: number[]; score: number; segmentation?: { size: number[]; counts: string } }[];
    expect(Array.isArray(results)).toBe(true);
    for (const r of results) {
      expect(Number.isInteger(r.image_id)).toBe(true);
      expect([1, 2, 3]).toContain(r.category_id);
      expect(r.bbox).toHaveLength(4);
      expect(r.score).toBeGreaterThan(0);
      expect(r.segmentation!.size).toEqual([160, 160]); // original image size, not the 64 px input
      expect(typeof r.segmentation!.counts).toBe('string');
    }
  }, 900_000);
});

describe('training worker thread', () => {
  it('runs a job with progress events, then cancels a long one', async () => {
    const progress: string[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20); // the caller's loop keeps running while the worker trains
    const job = trainInWorker(
      { project, backbone: 'random', steps: 2, size: 64, batchSize: 2, randomVit: { depth: 4 }, checkpointEvery: 1 },
      { onProgress: (m) => progress.push(m.message ?? '') },
    );
    const r = await job.done;
    expect(r.status).toBe('ok');
    expect(r.result!.steps).toBe(2);
    expect(r.result!.modelVersion).toBe(2);
    expect(progress.some((s) => /^step 2\/2/.test(s))).toBe(true);
    expect(progress.some((s) => /^checkpoint at step 1/.test(s))).toBe(true);
    expect(ticks).toBeGreaterThan(5);

    const long = trainInWorker({ project, backbone: 'random', steps: 500, size: 64, batchSize: 2, randomVit: { depth: 4 } }, {
      onProgress: (m) => m.message?.startsWith('step 1/') && long.cancel(),
    });
    const c = await long.done;
    expect(c.status).toBe('cancelled');
    clearInterval(timer);

    const bad = trainInWorker({ project, steps: -1 } as never);
    await expect(bad.done).rejects.toThrow(/train config: steps/);
  }, 900_000);
});
