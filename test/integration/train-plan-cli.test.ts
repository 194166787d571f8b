// `hst-studio train` plans exactly as the Fine-tune button: the same planner, the same plan printed; a project
// without a val split gets the same held-out images from both, and starting the run writes them as its val split.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTraining } from '../../src-main/core/app/train-service';
import { initCompute } from '../../src-main/core/compute/engine';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { openProject } from '../../src-main/core/store/project';
import { formatPlan } from '../../src-main/core/training/plan';
import { writeHoldout } from '../../src-main/core/training/plan-project';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'hst-plan-data-'));
const prevDataDir = process.env.HST_DATA_DIR;
let withVal: string;
let noVal: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/hst-studio.js', ...args], { cwd: root, env: { ...process.env, HST_DATA_DIR: dataDir, HST_BACKEND: 'wasm', HST_TRAIN_PRESET: undefined }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  process.env.HST_DATA_DIR = dataDir;
  await initCompute({ backend: 'wasm' });
  const base = mkdtempSync(join(tmpdir(), 'hst-plan-cli-'));
  withVal = join(base, 'with-val');
  (await createDemoProject(withVal, { count: 40 })).close();
  noVal = join(base, 'no-val');
  const s = await createDemoProject(noVal, { count: 40 });
  s.setSplit(s.listImages({ split: 'val' }).items.map((i) => i.id), 'train');
  s.close();
}, 300_000);
afterAll(() => {
  if (prevDataDir === undefined) delete process.env.HST_DATA_DIR;
  else process.env.HST_DATA_DIR = prevDataDir;
});

describe('hst-studio train plans like the Fine-tune button', () => {
  it('prints the same plan (JSON and line) as train.plan, and flags override it', async () => {
    const store = openProject(withVal);
    const button = await planTraining(store, { backbone: 'random' });
    store.close();
    const r = cli(['train', withVal, '--backbone', 'random', '--dry-run', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(button);
    expect(button).toMatchObject({ mode: 'fast', size: 128, batchSize: 8, side: 'lite', val: { source: 'project' } });
    const line = cli(['train', withVal, '--backbone', 'random', '--dry-run']);
    expect(line.stdout.split('\n')[0]).toBe(formatPlan(button));
    const o = cli(['train', withVal, '--backbone', 'random', '--dry-run', '--json', '--size', '192', '--steps', '33', '--side', 'small']);
    expect(JSON.parse(o.stdout)).toMatchObject({ size: 192, steps: 33, side: 'small', batchSize: 8 });
  }, 120_000);

  it('a project without val: both hold out the same images, and starting writes them as the val split', async () => {
    const store = openProject(noVal);
    try {
      const button = await planTraining(store, { backbone: 'random' });
      expect(button.val?.source).toBe('holdout');
      expect(button.valImages).toBe(Math.round(40 * 0.15));
      const r = cli(['train', noVal, '--backbone', 'random', '--dry-run', '--json']);
      expect(JSON.parse(r.stdout).val).toEqual(button.val);
      const redraw = cli(['train', noVal, '--backbone', 'random', '--dry-run', '--json', '--val-seed', '3', '--val-fraction', '0.25']);
      expect(JSON.parse(redraw.stdout).val).toMatchObject({ source: 'holdout', fraction: 0.25, seed: 3 });
      expect(writeHoldout(store, button)).toBe(button.valImages);
      expect(store.listImages({ split: 'val' }).items.map((i) => String(i.id)).sort()).toEqual([...button.val!.keys].sort());
      const after = await planTraining(store, { backbone: 'random' });
      expect(after.val?.source).toBe('project');
      expect(after.valImages).toBe(button.valImages);
    } finally {
      store.close();
    }
  }, 120_000);
});
