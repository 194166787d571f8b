// The frozen ViT-S/16 pass that fills the feature cache (issue 17: onnxruntime ≥ 4× tfjs-wasm): ms per image on
// the engine's tfjs backend (wasm here) and on onnxruntime-node's CPU provider, for batches of 8 images as the
// cache fill hands them over, at 224 and 384 px:
//  - before: the pass as it was (standard-op graph = the ONNX export's, 8 images per run, 2·depth outputs split
//    per image in JS), rebuilt here so the comparison survives later changes to OnnxVitPass;
//  - OnnxVitPass with the standard graph or the fused-operator graph, 8 images per run or as many as it picks
//    for the size (~512 patch tokens per run: 1 at 384 px, 2 at 224);
//  - the cache fill's whole conversion: before, the old pass + float16 in JS (put()); now, runHalf (float16 from
//    onnxruntime).
// Variants alternate within each repetition, so a load change hits all of them; medians over BENCH_VP_REPS
// (default 5) repetitions after one warm-up each. Random weights (the pass costs the same with trained ones).
// Run alone: npm run bench -- vit-pass   (~3 min on 2 idle cores; BENCH_VP_SIZES=384 one size; BENCH_SMOKE=1:
// 64 px, 1 repetition, seconds)
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { initCompute } from '../src-main/core/compute/engine';
import { OnnxGraph } from '../src-main/core/export/onnx/graph';
import { onnxVit } from '../src-main/core/export/onnx/vit';
import { Rng } from '../src-main/core/data/rng';
import { f32ToF16 } from '../src-main/core/features/f16';
import { computeFeatures } from '../src-main/core/features/feature-cache';
import { loadOnnxRuntime, OnnxVitPass } from '../src-main/core/features/onnx-vit';
import type { CachedFeatures } from '../src-main/core/features/types';
import { BACKBONE_SHAPES, SIDE_PRESETS } from '../src-main/core/model/config';
import { createRandomHst, type HstModel } from '../src-main/core/model/hst';
import type { BenchTable } from './types';

const SMOKE = process.env.BENCH_SMOKE === '1';
const SIZES = SMOKE ? [64] : (process.env.BENCH_VP_SIZES ?? '224,384').split(',').map(Number);
const REPS = SMOKE ? 1 : Number(process.env.BENCH_VP_REPS ?? 5);
const BATCH = 8;

type Input = { image: Float32Array; height: number; width: number };
type Pass = (inputs: Input[]) => Promise<CachedFeatures[]> | CachedFeatures[];
type Variant = { name: string; pass: (inputs: Input[]) => Promise<unknown> | unknown; f32?: boolean };

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

/** The onnxruntime pass before the fused graph (the code OnnxVitPass had), or null without onnxruntime-node. */
async function passBefore(hst: HstModel, size: number): Promise<{ pass: Pass; dispose: () => Promise<void> } | null> {
  const ort = loadOnnxRuntime();
  if (!ort) return null;
  const g = new OnnxGraph();
  const img = g.input('image', ['batch', size, size, 3]);
  const out = onnxVit(g, hst, img, size, size);
  const { depth } = hst.vit.d;
  const dim = hst.config.embed_dim;
  out.metaOut.forEach((t, l) => g.output(t, `meta${l}`, ['batch', 1, dim]));
  out.patches.forEach((t, l) => g.output(t, `patches${l}`, ['batch', out.h * out.w, dim]));
  const session = await ort.InferenceSession.create(g.encode({ producer: 'bench', version: '1', doc: '', props: {} }), { intraOpNumThreads: 0, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  const pass = async (inputs: Input[]): Promise<CachedFeatures[]> => {
    const buf = new Float32Array(inputs.length * size * size * 3);
    inputs.forEach((s, i) => buf.set(s.image, i * size * size * 3));
    const res = await session.run({ image: new ort.Tensor('float32', buf, [inputs.length, size, size, 3]) });
    const per = out.h * out.w * dim;
    const meta = Array.from({ length: depth }, (_, l) => res[`meta${l}`].data as Float32Array);
    const patches = Array.from({ length: depth }, (_, l) => res[`patches${l}`].data as Float32Array);
    return inputs.map((_, b) => {
      const m = new Float32Array(depth * dim);
      const p = new Float32Array(depth * per);
      for (let l = 0; l < depth; l++) {
        m.set(meta[l].subarray(b * dim, (b + 1) * dim), l * dim);
        p.set(patches[l].subarray(b * per, (b + 1) * per), l * per);
      }
      return { depth, h: out.h, w: out.w, dim, meta: m, patches: p };
    });
  };
  return { pass, dispose: () => session.release() };
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
      const before = await passBefore(hst, size);
      // imagesPerRun undefined: OnnxVitPass's own choice for this size (what the cache fill runs)
      const passes: { name: string; opts: { fused: boolean; imagesPerRun?: number } }[] = [
        { name: 'onnxruntime, standard graph', opts: { fused: false } },
        { name: 'onnxruntime, fused graph', opts: { fused: true, imagesPerRun: BATCH } },
        { name: 'onnxruntime, fused graph (now)', opts: { fused: true } },
      ];
      const sessions = await Promise.all(passes.map((p) => OnnxVitPass.create(hst, size, 0, 'cpu', p.opts)));
      const loadBefore = load();
      const variants: Variant[] = [{ name: `tfjs-${info.backend} (${info.threads} threads), 8 images/call`, pass: (x) => computeFeatures(hst, x), f32: true }];
      if (before) variants.push({ name: 'onnxruntime before: standard graph, 8 images/run, outputs split in JS', pass: before.pass, f32: true });
      passes.forEach((p, i) => {
        const sess = sessions[i];
        const per = sess ? Math.min(sess.imagesPerRun, BATCH) : 0;
        if (sess && sess.fused === p.opts.fused) variants.push({ name: `${p.name}, ${per} image${per > 1 ? 's' : ''}/run`, pass: (x) => sess.run(x), f32: true });
      });
      // what the cache fill gets: float16 for the cache (before: converted in JS by put(); now: by onnxruntime)
      const now = sessions[2];
      if (before && now?.fused) {
        variants.push({ name: 'cache fill before: onnxruntime before + float16 conversion in JS', pass: async (x) => (await before.pass(x)).map((f) => [f32ToF16(f.meta), f32ToF16(f.patches)]) });
        variants.push({ name: 'cache fill now: fused graph, float16 from onnxruntime (runHalf)', pass: (x) => now.runHalf(x) });
      }
      const times = variants.map(() => [] as number[]);
      // warm-up, and the agreement the parity test asserts (here at full size)
      const outs: CachedFeatures[][] = [];
      for (const v of variants) outs.push((await v.pass(batch)) as CachedFeatures[]);
      for (let i = 1; i < variants.length; i++) if (variants[i].f32) notes.push(`${size} px: ${variants[i].name} vs tfjs, max relative difference of image 8's patch tokens ${maxRel(outs[i][7].patches, outs[0][7].patches).toExponential(1)}`);
      for (let r = 0; r < REPS; r++) {
        for (let i = 0; i < variants.length; i++) {
          // let the previous variant's threads (onnxruntime's spin-waiting pool, XNNPACK's) go idle first
          await new Promise((r) => setTimeout(r, 200));
          const t0 = performance.now();
          await variants[i].pass(batch);
          times[i].push((performance.now() - t0) / BATCH);
        }
      }
      const tfjs = median(times[0]);
      const old = before ? median(times[1]) : null;
      variants.forEach((v, i) => {
        const ms = median(times[i]);
        rows.push({
          size,
          pass: v.name,
          'ms/img (median)': ms,
          min: Math.min(...times[i]),
          'speed-up vs tfjs': i === 0 ? '1×' : `${(tfjs / ms).toFixed(2)}×`,
          'vs onnxruntime before': old === null || i < 2 ? '' : v.name.startsWith('cache fill now') ? `${(median(times[i - 1]) / ms).toFixed(2)}× (vs fill before)` : v.name.startsWith('cache fill') ? '' : `${(old / ms).toFixed(2)}×`,
          'load avg 1/5/15 min (start → end)': `${loadBefore} → ${load()}`,
        });
      });
      if (!before) notes.push(`${size} px: onnxruntime-node not installed — only tfjs measured`);
      await before?.dispose();
      for (const sess of sessions) await sess?.dispose();
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
