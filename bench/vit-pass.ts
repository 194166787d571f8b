// The frozen ViT-S/16 pass that fills the feature cache (issue 17: onnxruntime ≥ 4× tfjs-wasm): ms per image on
// the engine's tfjs backend (wasm here) and on onnxruntime-node's CPU provider, the standard-op graph (the one
// the ONNX export writes; the cache pass before the fused graph) and the fused-operator graph the cache uses now,
// at 224 and 384 px, batches of 8 as the cache fill runs them (and batch 1 for onnxruntime). Variants alternate
// within each repetition, so a load change hits all of them; medians over BENCH_VP_REPS (default 5) repetitions
// after one warm-up each. Random weights (the pass costs the same with trained ones).
// Run alone: npm run bench -- vit-pass   (~3 min on 2 idle cores; BENCH_SMOKE=1: 64 px, 1 repetition, seconds)
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { initCompute } from '../src-main/core/compute/engine';
import { Rng } from '../src-main/core/data/rng';
import { computeFeatures } from '../src-main/core/features/feature-cache';
import { OnnxVitPass } from '../src-main/core/features/onnx-vit';
import type { CachedFeatures } from '../src-main/core/features/types';
import { BACKBONE_SHAPES, SIDE_PRESETS } from '../src-main/core/model/config';
import { createRandomHst } from '../src-main/core/model/hst';
import type { BenchTable } from './types';

const SMOKE = process.env.BENCH_SMOKE === '1';
const SIZES = SMOKE ? [64] : [224, 384];
const REPS = SMOKE ? 1 : Number(process.env.BENCH_VP_REPS ?? 5);
const BATCH = 8;

type Input = { image: Float32Array; height: number; width: number };
type Pass = (inputs: Input[]) => Promise<CachedFeatures[]> | CachedFeatures[];

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

function maxRel(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

export async function run(): Promise<BenchTable> {
  const info = await initCompute();
  const rows: object[] = [];
  const notes: string[] = [];
  for (const size of SIZES) {
    const s = SIDE_PRESETS.lite;
    const hst = createRandomHst({ ...BACKBONE_SHAPES['vit-small-16'], img_size: size, m_embed_dims: [...s.m_embed_dims], m_c_num_heads: [...s.m_c_num_heads] }, 4);
    try {
      const rng = new Rng(size);
      const batch = Array.from({ length: BATCH }, () => ({ image: Float32Array.from({ length: size * size * 3 }, () => rng.uniform(-1, 1)), height: size, width: size }));
      const standard = await OnnxVitPass.create(hst, size, 0, 'cpu', { fused: false });
      const fused = await OnnxVitPass.create(hst, size, 0, 'cpu', { fused: true });
      const loadBefore = load();
      const variants: { name: string; batch: number; pass: Pass }[] = [{ name: `tfjs-${info.backend} (${info.threads} threads)`, batch: BATCH, pass: (x) => computeFeatures(hst, x) }];
      if (standard) variants.push({ name: 'onnxruntime, standard-op graph (before)', batch: BATCH, pass: (x) => standard.run(x) });
      if (fused?.fused) {
        variants.push({ name: 'onnxruntime, fused graph (now)', batch: BATCH, pass: (x) => fused.run(x) });
        variants.push({ name: 'onnxruntime, fused graph (now)', batch: 1, pass: (x) => fused.run(x) });
      }
      const times = variants.map(() => [] as number[]);
      // warm-up, and the agreement the parity test asserts (on trained-size inputs here)
      const outs: CachedFeatures[][] = [];
      for (const v of variants) outs.push(await v.pass(batch.slice(0, v.batch)));
      for (let i = 1; i < variants.length; i++) notes.push(`${size} px: ${variants[i].name} batch ${variants[i].batch} vs tfjs, max relative difference of the patch tokens ${maxRel(outs[i][0].patches, outs[0][0].patches).toExponential(1)}`);
      for (let r = 0; r < REPS; r++) {
        for (let i = 0; i < variants.length; i++) {
          const v = variants[i];
          // batch 1: every image of the batch once, as 8 runs
          const t0 = performance.now();
          if (v.batch === BATCH) await v.pass(batch);
          else for (const im of batch) await v.pass([im]);
          times[i].push((performance.now() - t0) / BATCH);
        }
      }
      const tfjs = median(times[0]);
      const before = standard ? median(times[1]) : null;
      variants.forEach((v, i) => {
        const ms = median(times[i]);
        rows.push({
          size,
          pass: v.name,
          batch: v.batch,
          'ms/img (median)': ms,
          'min': Math.min(...times[i]),
          'speed-up vs tfjs': i === 0 ? '1×' : `${(tfjs / ms).toFixed(2)}×`,
          'vs standard graph': before === null || i === 0 ? '' : `${(before / ms).toFixed(2)}×`,
          'load avg 1/5/15 min (before → after)': `${loadBefore} → ${load()}`,
        });
      });
      if (!standard) notes.push(`${size} px: onnxruntime-node not installed — only tfjs measured`);
      await standard?.dispose();
      await fused?.dispose();
    } finally {
      hst.dispose();
    }
  }
  notes.push(
    `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; medians of ${REPS} repetitions (variants alternated within each), one warm-up each; onnxruntime with its default intra-op threads (one per core), graphOptimizationLevel 'all', as the feature cache runs it.`,
    'Issue 17 target: onnxruntime ≥ 4× tfjs-wasm for the ViT pass at 384 px. A load average near or above the core count means the numbers are not clean: rerun alone.',
  );
  return { title: 'ViT-S/16 pass per image: tfjs vs onnxruntime (standard vs fused graph)', rows, notes };
}
