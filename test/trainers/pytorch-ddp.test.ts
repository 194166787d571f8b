// The user's journey with the PyTorch trainer, for real: the demo project → `exportTrainingBundle` → the README's
// torchrun command with 2 processes (gloo) → the result imports as a model version and is evaluated. Also: 2
// processes × batch b train like 1 process × batch 2b, and a run stopped at a checkpoint resumes exactly.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute } from '../../src-main/core/compute/engine';
import { exportTrainingBundle, type TrainingBundleResult } from '../../src-main/core/export/training-bundle';
import { importTrainedModel } from '../../src-main/core/export/import-trained';
import { readSafetensors, toFloat32 } from '../../src-main/core/io/safetensors';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import { openProject } from '../../src-main/core/store/project';
import { findTorchPython, runPython, torchAvailable } from './python-env';

const ok = torchAvailable();
const STEPS = 2;

interface LogLine {
  step: number;
  loss: number;
  parts: Record<string, number>;
  gradNorm: number;
}

const readLog = (p: string): LogLine[] => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine);

async function weights(p: string): Promise<Map<string, Float32Array>> {
  const f = await readSafetensors(p);
  return new Map([...f.tensors].map(([k, t]) => [k, toFloat32(t, k)]));
}

/** ||Δa − Δb|| / ||Δb|| over every tensor, Δ = result − start: how differently two runs moved the weights. */
function updateRelErr(a: Map<string, Float32Array>, b: Map<string, Float32Array>, start: Map<string, Float32Array>): number {
  let num = 0;
  let den = 0;
  for (const [k, s] of start) {
    const x = a.get(k)!;
    const y = b.get(k)!;
    for (let i = 0; i < s.length; i++) {
      const db = y[i] - s[i];
      num += (x[i] - s[i] - db) ** 2;
      den += db * db;
    }
  }
  return Math.sqrt(num / den);
}

describe.runIf(ok || process.env.CI)('PyTorch trainer: export → torchrun (DDP, gloo) → import', () => {
  let project: string;
  let bundle: TrainingBundleResult;
  let dir: string;

  /** The README's command (torchrun = python -m torch.distributed.run, so HST_PYTHON's torch runs it), from the bundle folder. */
  function torchrun(nproc: number, extra: string[]) {
    const args = bundle.command.split(' ').slice(1);
    args[args.indexOf('--nproc_per_node') + 1] = String(nproc);
    const s = args.indexOf('--steps');
    args.splice(s, 2); // the tests give their own
    const r = runPython(['-m', 'torch.distributed.run', ...args, ...extra], { cwd: bundle.out, timeout: 400_000, env: { PYTHONPATH: '' } });
    if (r.code !== 0) throw new Error(`torchrun ${nproc} failed (${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
    return r;
  }

  /** One process, no torchrun: python -m hst_trainer.train from the bundle folder (last weights, no EMA). */
  function train(extra: string[]) {
    const r = runPython(['-m', 'hst_trainer.train', '--steps', String(STEPS), '--no-ema', '--threads', '1', ...extra], { cwd: bundle.out, timeout: 300_000, env: { PYTHONPATH: '' } });
    if (r.code !== 0) throw new Error(`trainer failed (${r.code}): ${r.stderr.slice(-3000)}`);
    return r;
  }

  beforeAll(async () => {
    if (!ok) throw new Error(findTorchPython().reason!);
    await initCompute({});
    dir = mkdtempSync(join(tmpdir(), 'hst-torch-ddp-'));
    project = join(dir, 'demo');
    (await createDemoProject(project, { count: 12 })).close();
    bundle = await exportTrainingBundle(project, join(dir, 'bundle'), { backbone: 'random', vitDepth: 4, size: 64, side: 'lite', steps: 50, batchSize: 2 });
  }, 300_000);

  it('writes a bundle the trainer can run from its own folder', () => {
    for (const f of ['spec.json', 'train.json', 'weights.safetensors', 'README.md', 'requirements.txt', 'hst_trainer/train.py', 'dataset/train.json', 'dataset/val.json']) {
      expect(existsSync(join(bundle.out, f)), f).toBe(true);
    }
    const readme = readFileSync(join(bundle.out, 'README.md'), 'utf8');
    expect(readme).toContain(bundle.command);
    expect(bundle.command).toMatch(/^torchrun .*--nproc_per_node 1 -m hst_trainer\.train --steps 50 --out trained\.safetensors$/);
    const coco = JSON.parse(readFileSync(join(bundle.out, 'dataset', 'train.json'), 'utf8')) as { images: { file_name: string }[] };
    expect(coco.images.length).toBe(bundle.images.train);
    expect(bundle.images.train + bundle.images.val).toBe(12);
    for (const im of coco.images) expect(existsSync(join(bundle.out, 'dataset', 'images', im.file_name)), im.file_name).toBe(true);
    expect(bundle.spec.backboneHash).toMatch(/^[0-9a-f]{64}$/);
    expect(bundle.spec.heads.tasks).toEqual(['detect', 'instance', 'semantic']);
  });

  it('2 processes × batch 1 train like 1 process × batch 2; the result imports and is evaluated', async () => {
    // --no-ema: the result is the last weights, so both runs are compared on what the optimizer did
    const two = torchrun(2, ['--steps', String(STEPS), '--batch', '1', '--no-ema', '--out', 'two.safetensors', '--log', 'two.jsonl', '--checkpoint-dir', 'ck-two']);
    expect(two.stdout).toMatch(/2 process\(es\) × batch 1 \(gloo, cpu\)/);
    // one process needs no torchrun (it would only add its start-up); the next test reuses this run
    train(['--batch', '2', '--out', 'one.safetensors', '--log', 'one.jsonl', '--checkpoint-dir', 'ck-one']);
    const a = readLog(join(bundle.out, 'two.jsonl'));
    const b = readLog(join(bundle.out, 'one.jsonl'));
    expect(a.map((l) => l.step)).toEqual([1, 2]);
    expect(Object.keys(a[0].parts).sort()).toEqual(['det_box', 'det_cls', 'det_ctr', 'mask_dice', 'sem_ce']);
    a.forEach((l, i) => {
      for (const k of Object.keys(l.parts)) expect(Math.abs(l.parts[k] - b[i].parts[k]) / Math.abs(b[i].parts[k]), `step ${l.step} ${k}`).toBeLessThan(1e-4);
      expect(Math.abs(l.gradNorm - b[i].gradNorm) / b[i].gradNorm).toBeLessThan(1e-4);
    });
    const start = await weights(join(bundle.out, 'weights.safetensors'));
    const e = updateRelErr(await weights(join(bundle.out, 'two.safetensors')), await weights(join(bundle.out, 'one.safetensors')), start);
    console.log(`2×1 vs 1×2 after ${STEPS} steps: loss ${a.at(-1)!.loss.toFixed(6)} vs ${b.at(-1)!.loss.toFixed(6)}, weight update rel. error ${e.toExponential(2)}`);
    // Adam divides by √v: float-rounding differences of the all-reduce and the global BatchNorm grow a little
    expect(e).toBeLessThan(1e-3);

    const r = await importTrainedModel(project, join(bundle.out, 'two.safetensors'), { dataDir: join(dir, 'data') });
    expect(r.origin.trainer).toBe('pytorch (torchrun)');
    expect(r.origin.file).toBe('two.safetensors');
    expect(r.metrics?.bbox?.AP50).toBeGreaterThanOrEqual(0);
    expect(r.metrics?.semantic?.mIoU).toBeGreaterThanOrEqual(0);
    const store = openProject(project);
    try {
      const v = store.listModelVersions().find((m) => m.id === r.modelVersion)!;
      expect(v.active).toBe(true);
      expect((v.config as { origin: { trainer: string } }).origin.trainer).toBe('pytorch (torchrun)');
      expect(v.metrics).toHaveProperty('bbox.AP50');
      expect(v.files.some((f) => f.endsWith('model.safetensors'))).toBe(true);
    } finally {
      store.close();
    }
  }, 900_000);

  it('a run stopped at its checkpoint resumes exactly', async () => {
    // the straight run: the previous test's one-process run (same recipe), else run it here
    if (!existsSync(join(bundle.out, 'one.safetensors'))) train(['--batch', '2', '--out', 'one.safetensors', '--log', 'one.jsonl', '--checkpoint-dir', 'ck-one']);
    const run = (extra: string[]) => train(['--batch', '2', ...extra]);
    const stopped = run(['--stop-after', '1', '--checkpoint-dir', 'ck-b', '--log', 'b.jsonl']);
    expect(stopped.stdout).toMatch(/stopped at step 1 of 2/);
    const resumed = run(['--resume', '--out', 'resumed.safetensors', '--checkpoint-dir', 'ck-b', '--log', 'b.jsonl']);
    expect(resumed.stdout).toMatch(/resuming from .*step-000001 \(step 1\)/);
    const a = await weights(join(bundle.out, 'one.safetensors'));
    const b = await weights(join(bundle.out, 'resumed.safetensors'));
    let worst = 0;
    for (const [k, v] of a) for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - b.get(k)![i]));
    expect(worst).toBe(0);
    expect(readLog(join(bundle.out, 'b.jsonl')).map((l) => l.loss)).toEqual(readLog(join(bundle.out, 'one.jsonl')).map((l) => l.loss));
  }, 600_000);
});
