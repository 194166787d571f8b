// GPU benchmark (issue 22): HST on the webgpu backend — ViT-S/16 and ViT-B/16 with the dense side network
// [64,128,256,384] at 224 and 384 px, batch 8/16/32: full-recipe train step (MetaT + LayerNorms + side network,
// ViT run every step, Adam) and eval forward in ms/img, and the GPU memory the backend holds; then the demo
// one-click fine-tune (bench/finetune.ts) and the incremental update (bench/incremental.ts) on the same backend;
// and, when PyTorch with CUDA and the authors' HST code are on the machine, their model on the same configs in
// the same run, for the throughput ratio (target: ≥ 0.25× PyTorch-CUDA train throughput).
// Run: npm run bench -- gpu   (~10–25 min on a desktop GPU). Knobs: HST_TORCH_HST_DIR = a checkout of the
// authors' repository (github AFeng-x/HST; its models/vit_hsn.py is imported, with timm/thop/ipdb installed), PYTHON
// (default python3), BENCH_GPU_SKIP=finetune,incremental,torch, BENCH_GPU_CASES=vit-small-16:224:8,…,
// HST_BENCH_GPU_SOFTWARE=1 lets a software adapter run (a smoke check of this script on lavapipe: use one tiny case).
// Each configuration runs in a fresh process (bench/child.ts): an out-of-memory one cannot take the others down.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeMemory, initCompute, tf } from '../src-main/core/compute/engine';
import { adapterName } from '../src-main/core/compute/webgpu-adapter';
import { presetConfig, type BackboneShape } from '../src-main/core/model/config';
import { createRandomHst } from '../src-main/core/model/hst';
import { computeFeaturesAsync } from '../src-main/core/features/feature-cache';
import { OnnxVitPass } from '../src-main/core/features/onnx-vit';
import { runChild } from './child';
import { forwardMacs } from './model';
import type { BenchTable } from './types';

interface Case {
  backbone: BackboneShape;
  size: number;
  batch: number;
}

interface ChildOut {
  adapter: string;
  software: boolean;
  skipped?: string;
  evalMs?: number;
  trainMs?: number;
  trainError?: string;
  gpuMB?: number;
  /** the feature cache's ViT pass per batch: tfjs on webgpu vs onnxruntime's WebGPU provider */
  vitTfjsMs?: number;
  vitOrtMs?: number | string;
}

const DEFAULT_CASES: Case[] = (['vit-small-16', 'vit-base-16'] as const).flatMap((backbone) =>
  [224, 384].flatMap((size) => [8, 16, 32].map((batch) => ({ backbone, size, batch }))),
);

function cases(): Case[] {
  const env = process.env.BENCH_GPU_CASES;
  if (!env) return DEFAULT_CASES;
  return env.split(',').map((c) => {
    const [backbone, size, batch] = c.split(':');
    return { backbone: backbone as BackboneShape, size: Number(size), batch: Number(batch) };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const label = (b: string) => b.replace(/-16$/, '/16').replace('vit-small', 'ViT-S').replace('vit-base', 'ViT-B');

/** One configuration on webgpu, in its own process. Other parts: the demo and incremental benches on webgpu. */
export async function child(): Promise<unknown> {
  const part = process.env.HST_BENCH_GPU_PART ?? 'model';
  const info = await initCompute({ backend: 'webgpu' });
  const a = info.webgpu;
  const adapter = a ? adapterName(a) : 'none';
  if (info.backend !== 'webgpu' || !a) return { adapter, software: false, skipped: `webgpu did not start: ${info.reasons.find((r) => r.backend === 'webgpu')?.reason ?? info.notes.join(' ')}` } satisfies ChildOut;
  if (a.software && process.env.HST_BENCH_GPU_SOFTWARE !== '1') return { adapter, software: true, skipped: 'software adapter: not measured (HST_BENCH_GPU_SOFTWARE=1 to smoke-test)' } satisfies ChildOut;
  if (part === 'finetune') return (await import('./finetune')).run();
  if (part === 'incremental') return (await import('./incremental')).run();

  const cs = JSON.parse(process.env.HST_BENCH_GPU_CASE ?? '{}') as Case;
  const model = createRandomHst(presetConfig(cs.backbone, 'dense'), 1);
  let peak = 0;
  const sample = () => (peak = Math.max(peak, computeMemory().gpuBytesAllocated ?? 0));
  const x = tf.randomNormal([cs.batch, cs.size, cs.size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const out: ChildOut = { adapter, software: a.software };
  // eval: forward in eval mode, read back (the GPU finishes the work before the clock stops)
  const fwd = async () => {
    const t0 = performance.now();
    const y = tf.tidy(() => model.forward(x).stages[3]);
    await y.data();
    sample();
    y.dispose();
    return performance.now() - t0;
  };
  await fwd(); // warm-up: shader compilation, pos-embed resample
  out.evalMs = median([await fwd(), await fwd(), await fwd()]);
  // train: the full recipe's trainable set (MetaT, ViT LayerNorms, side network, bridges), ViT run every step
  try {
    const opt = tf.train.adam(1e-4);
    const trainable = model.trainableVariables();
    const step = async () => {
      const t0 = performance.now();
      const loss = opt.minimize(() => {
        const o = model.forward(x, { training: true });
        return o.stages.map((s) => tf.mean(tf.square(s))).reduce((p, q) => tf.add(p, q)) as tf.Scalar;
      }, true, trainable);
      await loss!.data();
      sample();
      loss!.dispose();
      return performance.now() - t0;
    };
    await step();
    out.trainMs = median([await step(), await step(), await step()]);
    opt.dispose();
  } catch (err) {
    out.trainError = (err as Error).message.split('\n')[0];
  }
  out.gpuMB = peak / 1024 ** 2;
  // the feature cache's ViT pass both ways (which one the cache should use on a GPU: HST_ONNX_VIT=webgpu or not)
  const imgs = Array.from({ length: cs.batch }, (_, i) => ({ image: new Float32Array(cs.size * cs.size * 3).fill((i % 7) / 7 - 0.5), height: cs.size, width: cs.size }));
  const vitTfjs = async () => {
    const t0 = performance.now();
    await computeFeaturesAsync(model, imgs);
    return performance.now() - t0;
  };
  await vitTfjs();
  out.vitTfjsMs = median([await vitTfjs(), await vitTfjs(), await vitTfjs()]);
  try {
    const pass = await OnnxVitPass.create(model, cs.size, 0, 'webgpu');
    if (!pass) out.vitOrtMs = 'onnxruntime-node missing or refused the graph';
    else {
      const t = async () => {
        const t0 = performance.now();
        await pass.run(imgs);
        return performance.now() - t0;
      };
      await t();
      out.vitOrtMs = median([await t(), await t(), await t()]);
      await pass.dispose();
    }
  } catch (err) {
    out.vitOrtMs = `failed: ${(err as Error).message.split('\n')[0]}`;
  }
  tf.dispose(x);
  model.dispose();
  return out;
}

interface TorchRow {
  backbone: string;
  size: number;
  batch: number;
  trainMs?: number;
  evalMs?: number;
  memMB?: number;
  error?: string;
}

/** The authors' PyTorch HST on CUDA (bench/gpu_torch.py), or why it was not run. */
function runTorch(cs: Case[]): { rows: TorchRow[]; device?: string; note: string } {
  if ((process.env.BENCH_GPU_SKIP ?? '').includes('torch')) return { rows: [], note: 'PyTorch comparison skipped (BENCH_GPU_SKIP).' };
  const dir = process.env.HST_TORCH_HST_DIR;
  if (!dir) return { rows: [], note: "PyTorch comparison not run: set HST_TORCH_HST_DIR to a checkout of the authors' HST repository (github AFeng-x/HST) on a machine with PyTorch + CUDA." };
  let root = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(root, 'package.json')) && path.dirname(root) !== root) root = path.dirname(root);
  const script = path.join(root, 'bench', 'gpu_torch.py');
  const payload = cs.map((c) => ({ ...c, config: presetConfig(c.backbone, 'dense') }));
  const r = spawnSync(process.env.PYTHON ?? 'python3', [script, dir], { input: JSON.stringify(payload), encoding: 'utf8', timeout: 1_800_000, maxBuffer: 16 * 1024 * 1024 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(line) as { device?: string; error?: string; rows?: TorchRow[] };
    if (j.error) return { rows: [], note: `PyTorch comparison not run: ${j.error}` };
    return { rows: j.rows ?? [], device: j.device, note: `PyTorch (authors' HST, CUDA) on ${j.device}: same configs, same synthetic loss, Adam over the same trainable set (freeze_vit()).` };
  } catch {
    return { rows: [], note: `PyTorch comparison failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' ')}` };
  }
}

export async function run(): Promise<BenchTable> {
  const rows: Record<string, unknown>[] = [];
  const cs = cases();
  let adapter = '';
  const torch = runTorch(cs);
  for (const c of cs) {
    const cfg = presetConfig(c.backbone, 'dense');
    const gflop = (2 * forwardMacs(cfg, c.size, c.size)) / 1e9;
    const row: Record<string, unknown> = { backbone: label(c.backbone), px: c.size, batch: c.batch };
    try {
      const r = await runChild<ChildOut>('gpu', { HST_BENCH_GPU_CASE: JSON.stringify(c), HST_BENCH_GPU_PART: 'model' }, 900_000);
      adapter = r.adapter;
      if (r.skipped) {
        rows.push({ ...row, 'train ms/img': `skipped: ${r.skipped}` });
        if (/software|did not start/.test(r.skipped)) break;
        continue;
      }
      const train = r.trainMs != null ? r.trainMs / c.batch : null;
      const evalPerImg = r.evalMs! / c.batch;
      const t = torch.rows.find((x) => x.backbone === c.backbone && x.size === c.size && x.batch === c.batch);
      Object.assign(row, {
        'train ms/img': train ?? `failed: ${r.trainError}`,
        'eval ms/img': evalPerImg,
        'eval GFLOP/s': gflop / (evalPerImg / 1000),
        'GPU MB (held)': r.gpuMB,
        'ViT pass ms/img: tfjs webgpu': r.vitTfjsMs != null ? r.vitTfjsMs / c.batch : '',
        'ViT pass ms/img: ORT WebGPU EP': typeof r.vitOrtMs === 'number' ? r.vitOrtMs / c.batch : r.vitOrtMs ?? '',
        'PyTorch train ms/img': t?.trainMs != null ? t.trainMs / c.batch : t?.error ?? '',
        'PyTorch eval ms/img': t?.evalMs != null ? t.evalMs / c.batch : '',
        'train throughput vs PyTorch': t?.trainMs != null && train != null ? (t.trainMs / c.batch) / train : '',
      });
    } catch (err) {
      row['train ms/img'] = `failed: ${(err as Error).message}`;
    }
    rows.push(row);
  }
  const notes = [
    `Adapter: ${adapter || 'none'}. Random weights; one fresh process per row; medians of 3 after one warm-up (shader compilation).`,
    "ViT pass = the feature cache's frozen ViT forward (every layer's Meta Token and patch tokens read back), through tfjs on webgpu (the default on a GPU) and through onnxruntime-node's WebGPU execution provider (HST_ONNX_VIT=webgpu): the faster one should be the default.",
    'Train = full recipe (MetaT + ViT LayerNorms + side network + bridges trainable, ViT forward and backward every step), loss = Σ mean(stage²), Adam; eval = forward in eval mode. GPU MB = the buffers tfjs-backend-webgpu holds (live tensors and its free pool) at the peak.',
    torch.note,
    'Target: train throughput ≥ 0.25× PyTorch-CUDA on the same GPU (the last column; > 1 would mean faster than PyTorch).',
  ];
  const skip = process.env.BENCH_GPU_SKIP ?? '';
  for (const part of ['finetune', 'incremental'] as const) {
    if (skip.includes(part) || !adapter || /software/.test(String(rows[0]?.['train ms/img'] ?? ''))) {
      notes.push(`${part}: not run${skip.includes(part) ? ' (BENCH_GPU_SKIP)' : ' (no hardware adapter)'}.`);
      continue;
    }
    try {
      const t = await runChild<BenchTable>('gpu', { HST_BENCH_GPU_PART: part }, 1_800_000);
      notes.push(`${part === 'finetune' ? 'Demo one-click (bench/finetune.ts; target ≤ 30 s to box AP50 0.8)' : 'Incremental update (bench/incremental.ts; target ≤ 1 s)'} on webgpu: ${t.rows.map((r) => JSON.stringify(r)).join(' · ')}`);
    } catch (err) {
      notes.push(`${part}: failed (${(err as Error).message}).`);
    }
  }
  return { title: 'HST on the GPU (webgpu backend): train and eval per image, dense side network [64,128,256,384]', rows, notes };
}
