// The PyTorch trainer (trainers/pytorch, torchrun) on this machine: images/s of the studio's full-mode recipe on
// a demo bundle (ViT-Ti/16 shape with random weights, "small" side network, detect+instance+semantic, 224 px),
// with 1 and 2 CPU processes (gloo) and, when torch sees a CUDA GPU, 1 process on it (NCCL; one GPU is a valid
// DDP world). Put the GPU row next to the studio's own GPU trainer on the same card (the GPU issue's bench).
// Takes ~5 min on 2 CPU cores (3 runs of 30 steps at batch 4); needs python3 with torch (HST_PYTHON overrides).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { initCompute } from '../src-main/core/compute/engine';
import { exportTrainingBundle } from '../src-main/core/export/training-bundle';
import { createDemoProject } from '../src-main/core/store/create-demo';
import type { BenchTable } from './types';

const STEPS = 30;
const WARM = 5;
const BATCH = 4;

function torchPython(): { python: string; cuda: boolean; version: string } | null {
  for (const py of process.env.HST_PYTHON ? [process.env.HST_PYTHON] : ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch, numpy, PIL; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8' });
    if (r.status === 0) {
      const [version, cuda] = r.stdout.trim().split(' ');
      return { python: py, cuda: cuda === 'True', version };
    }
  }
  return null;
}

export async function run(): Promise<BenchTable> {
  await initCompute();
  const py = torchPython();
  const notes = [`load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores at the start`, `${STEPS} steps, images/s over steps ${WARM + 1}–${STEPS} (decode and first-step costs excluded), batch ${BATCH} per process, weight EMA off, float32 (no AMP, no TF32)`];
  if (!py) return { title: 'PyTorch trainer (torchrun)', rows: [], notes: [...notes, 'no python3 with torch, numpy and PIL: nothing measured'] };
  const dir = mkdtempSync(join(os.tmpdir(), 'hst-bench-torch-'));
  (await createDemoProject(join(dir, 'demo'), { count: 64 })).close();
  const bundle = await exportTrainingBundle(join(dir, 'demo'), join(dir, 'bundle'), { backbone: 'random', size: 224, side: 'small', steps: STEPS, batchSize: BATCH });
  const runs: { label: string; nproc: number; device: 'cpu' | 'cuda'; threads: number }[] = [
    { label: 'CPU, 1 process', nproc: 1, device: 'cpu', threads: os.cpus().length },
    { label: 'CPU, 2 processes (gloo)', nproc: 2, device: 'cpu', threads: Math.max(1, Math.floor(os.cpus().length / 2)) },
  ];
  if (py.cuda) runs.push({ label: 'CUDA GPU, 1 process (NCCL)', nproc: 1, device: 'cuda', threads: 4 });
  else notes.push('torch sees no CUDA GPU here: no GPU row');
  const rows: object[] = [];
  for (const r of runs) {
    const log = join(bundle.out, `bench-${r.device}-${r.nproc}.jsonl`);
    const args = ['-m', 'torch.distributed.run', '--redirects', '1', '--tee', '1', '--nproc_per_node', String(r.nproc), '-m', 'hst_trainer.train',
      '--steps', String(STEPS), '--batch', String(BATCH), '--device', r.device, '--no-ema', '--threads', String(r.threads), '--log', log, '--checkpoint-every', '0', '--checkpoint-dir', join(dir, `ck-${r.device}-${r.nproc}`), '--out', join(dir, `out-${r.device}-${r.nproc}.safetensors`)];
    const t0 = Date.now();
    const p = spawnSync(py.python, args, { cwd: bundle.out, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(r.threads) } });
    if (p.status !== 0) {
      rows.push({ run: r.label, 'images/s': null, 'wall s': (Date.now() - t0) / 1000, note: `failed: ${(p.stderr || '').trim().split('\n').at(-1)}` });
      continue;
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; seconds: number; loss: number });
    const a = lines[WARM - 1];
    const b = lines.at(-1)!;
    rows.push({ run: r.label, 'images/s': (BATCH * r.nproc * (b.step - a.step)) / (b.seconds - a.seconds), 'wall s': (Date.now() - t0) / 1000, 'final loss': b.loss, note: `torch ${py.version}, ${r.threads} threads/process` });
  }
  return { title: 'PyTorch trainer (torchrun): images/s on a demo bundle', rows, notes };
}
