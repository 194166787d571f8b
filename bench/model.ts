// HST model benchmark: forward (eval) and train-step time per image, peak memory and GFLOP/s for ViT-Ti/16 and
// ViT-S/16 with the dense side preset [64,128,256,384] at 224 and 384 px, batch 1 and 4, on the backend the
// engine picks (what `doctor` reports). Random weights (explicitly): timing does not depend on the values.
// Each configuration runs in a fresh process (bench/child.ts) so one that exhausts the wasm heap cannot take
// the others down, and so the memory figures are per configuration.
import { initCompute, tf } from '../src-main/core/compute/engine';
import { presetConfig, type BackboneShape, type ResolvedHstConfig } from '../src-main/core/model/config';
import { createRandomHst } from '../src-main/core/model/hst';
import { runChild } from './child';
import type { BenchTable } from './types';

interface Case {
  backbone: BackboneShape;
  size: number;
  batch: number;
}

interface ChildOut {
  backend: string;
  threads: number;
  forwardMs: number;
  trainMs: number | null;
  trainSkipped?: string;
  peakRssMB: number;
  peakTensorMB: number;
  matmulGflops: number;
  reps: number;
}

const CASES: Case[] = (['vit-tiny-16', 'vit-small-16'] as const).flatMap((backbone) =>
  [224, 384].flatMap((size) => [1, 4].map((batch) => ({ backbone, size, batch }))),
);

/** Multiply-accumulates per image of the HST forward: every matmul and convolution (elementwise ops excluded). */
export function forwardMacs(c: ResolvedHstConfig, H: number, W: number): number {
  const p = c.patch_size;
  const N = (H / p) * (W / p);
  const T = N + 2;
  const D = c.embed_dim;
  const hid = D * c.mlp_ratio;
  let macs = N * D * 3 * p * p;
  macs += c.depth * (T * D * 3 * D + 2 * T * T * D + T * D * D + 2 * T * D * hid);
  const dims = c.m_embed_dims;
  let h = H / 4;
  let w = W / 4;
  macs += (H / 2) * (W / 2) * dims[0] * 27 + h * w * dims[0] * dims[0] * 4;
  for (let s = 0; s < 4; s++) {
    if (s > 0) {
      h = Math.floor((h - 1) / 2) + 1;
      w = Math.floor((w - 1) / 2) + 1;
      macs += h * w * dims[s] * dims[s - 1] * 9;
    }
    const C = dims[s];
    const Ns = h * w;
    for (let j = 0; j < c.m_depths[s]; j++) {
      macs += (N + 1) * D * C; // bridge projection at the ViT grid + meta token
      macs += Ns * C * C * 2 + 2 * C * C * 2 + Ns * 2 * C * 2 + Ns * C * C * c.m_mlp_ratio * 2; // q + proj, k/v on 2 tokens, attention, MLP
    }
  }
  return macs;
}

/**
 * Rough training footprint: the tape keeps ~50 token-sized tensors per ViT block plus 3 attention maps, and the
 * side network ~50 per side block; backward and allocator slack make the peak ≈2.6× that. Calibrated on the
 * measured peak live tensors of the train step: ViT-Ti/224 batch 1 0.79 GB, ViT-S/224 batch 1 1.10 GB.
 */
export function trainBytesEstimate(c: ResolvedHstConfig, size: number, batch: number): number {
  const N = (size / c.patch_size) ** 2;
  const T = N + 2;
  const vit = c.depth * (51 * T * c.embed_dim + 3 * c.num_heads * T * T);
  let side = 0;
  let g = size / 4;
  for (let s = 0; s < 4; s++) {
    if (s > 0) g = Math.floor((g - 1) / 2) + 1;
    side += c.m_depths[s] * 50 * g * g * c.m_embed_dims[s];
  }
  return 4 * batch * (vit + side) * 2.6;
}

// ViT-Ti/224 batch 4 (estimate 3.3 GB) hung the wasm heap, so the budget leaves that much margin.
const WASM_BUDGET = 3.0 * 1024 ** 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function child(): Promise<ChildOut> {
  const cs = JSON.parse(process.env.HST_BENCH_MODEL_CASE ?? '{}') as Case;
  const info = await initCompute();
  const cfg = presetConfig(cs.backbone, 'dense');
  const model = createRandomHst(cfg, 1);
  let peakRss = process.memoryUsage().rss;
  let peakTensor = 0;
  const sample = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakTensor = Math.max(peakTensor, tf.memory().numBytes);
  };
  const x = tf.randomNormal([cs.batch, cs.size, cs.size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const fwd = () => {
    const t0 = performance.now();
    tf.tidy(() => {
      const out = model.forward(x);
      sample();
      out.stages[3].dataSync();
    });
    return performance.now() - t0;
  };
  const first = fwd(); // warm-up (kernel set-up, pos-embed cache)
  // Slow rows: the warm-up cost is negligible next to the work, so it doubles as the measurement.
  const reps = first > 60_000 ? 0 : first > 15_000 ? 1 : first > 3_000 ? 2 : 4;
  const fts = reps ? Array.from({ length: reps }, fwd) : [first];
  const trainable = model.trainableVariables();
  let trainMs: number | null = null;
  let trainSkipped: string | undefined;
  const est = trainBytesEstimate(cfg, cs.size, cs.batch);
  if (info.backend.startsWith('wasm') && est > WASM_BUDGET) {
    trainSkipped = `estimated ${(est / 1024 ** 3).toFixed(1)} GB > wasm 4 GB heap`;
  } else {
    const opt = tf.train.adam(1e-4);
    const step = () => {
      const t0 = performance.now();
      const loss = opt.minimize(() => {
        const out = model.forward(x, { training: true });
        sample();
        return out.stages.map((s) => tf.mean(tf.square(s))).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
      }, true, trainable);
      loss?.dataSync();
      loss?.dispose();
      sample();
      return performance.now() - t0;
    };
    const firstT = step();
    const trep = firstT > 90_000 ? 0 : firstT > 30_000 ? 1 : firstT > 6_000 ? 2 : 3;
    trainMs = trep ? median(Array.from({ length: trep }, step)) : firstT;
    opt.dispose();
  }
  // matmul peak under the same conditions (the machine is shared), for the GFLOP/s ratio
  const a = tf.randomNormal([1024, 1024]);
  const b = tf.randomNormal([1024, 1024]);
  tf.matMul(a, b).dispose();
  const mts = Array.from({ length: 3 }, () => {
    const t0 = performance.now();
    tf.matMul(a, b).dispose();
    return performance.now() - t0;
  });
  const matmulGflops = (2 * 1024 ** 3) / median(mts) / 1e6;
  tf.dispose([a, b, x]);
  model.dispose();
  return {
    backend: info.backend, threads: info.threads, forwardMs: median(fts), trainMs, trainSkipped,
    peakRssMB: peakRss / 1024 ** 2, peakTensorMB: peakTensor / 1024 ** 2, matmulGflops, reps,
  };
}

export async function run(): Promise<BenchTable> {
  const rows: Record<string, unknown>[] = [];
  let backend = '';
  for (const cs of CASES) {
    const cfg = presetConfig(cs.backbone, 'dense');
    const gflopPerImg = (2 * forwardMacs(cfg, cs.size, cs.size)) / 1e9;
    const label = { backbone: cs.backbone.replace(/-16$/, '/16').replace('vit-tiny', 'ViT-Ti').replace('vit-small', 'ViT-S'), px: cs.size, batch: cs.batch };
    try {
      const r = await runChild<ChildOut>('model', { HST_BENCH_MODEL_CASE: JSON.stringify(cs) }, 600_000);
      backend = `${r.backend} (${r.threads} thread${r.threads > 1 ? 's' : ''})`;
      const fwdPerImg = r.forwardMs / cs.batch;
      const trainPerImg = r.trainMs === null ? null : r.trainMs / cs.batch;
      const fwdGflops = gflopPerImg / (fwdPerImg / 1000);
      rows.push({
        ...label,
        'GFLOP/img (fwd)': gflopPerImg,
        'forward ms/img': fwdPerImg,
        'forward GFLOP/s': fwdGflops,
        'train-step ms/img': trainPerImg ?? `skipped: ${r.trainSkipped}`,
        'train GFLOP/s (≈3× fwd)': trainPerImg === null ? null : (3 * gflopPerImg) / (trainPerImg / 1000),
        'peak RSS MB': r.peakRssMB,
        'peak live tensors MB': r.peakTensorMB,
        'matmul 1024³ GFLOP/s': r.matmulGflops,
        '% of matmul peak (fwd)': (100 * fwdGflops) / r.matmulGflops,
      });
    } catch (err) {
      rows.push({ ...label, 'GFLOP/img (fwd)': gflopPerImg, 'forward ms/img': `failed: ${(err as Error).message}` });
    }
  }
  return {
    title: 'HST model: forward and train step, dense side network [64,128,256,384]',
    rows,
    notes: [
      `Backend picked by the engine (as \`hst-studio doctor\`): ${backend}. Random weights (explicitly requested); one fresh process per row.`,
      'Forward = eval mode, ViT with per-layer Meta Tokens + side network (no head). Train step = train mode (BN batch stats, drop-path 0) + backward through the whole ViT (its LayerNorms and MetaT train) + Adam over the trainable set.',
      'GFLOP counts 2·MACs of every matmul and convolution (ViT linears and attention, bridge projections, side blocks, stem, downsamplers); elementwise work is excluded. Train GFLOP/s assumes a step costs ≈3× the forward.',
      'Times are medians after one warm-up (fewer repetitions for slow rows; rows slower than 60 s forward / 90 s train report the single first run). The machine is shared by several engineers, so absolute numbers vary; the matmul column is measured in the same process for a like-for-like ratio.',
      'Train steps whose estimated tape footprint exceeds the wasm32 4 GB heap are skipped and say so (running them aborts or hangs the backend, compute-notes §6).',
    ],
  };
}
