// Compute benchmark: matmul and conv GFLOP/s on the wasm backend with 1 thread vs every core, the
// same work split over data-parallel 1-thread processes, and the extra wasm kernels' timings next
// to the stock kernels they replace. Each thread setting needs a fresh process (the wasm thread
// pool is fixed at start-up), so the measuring happens in children (bench/child.ts).
import os from 'node:os';
import { initCompute, tf } from '../src-main/core/compute/engine';
import { useStockKernel } from '../src-main/core/compute/kernels/index';
import { runChild } from './child';
import type { BenchTable } from './types';

interface Measure {
  name: string;
  shape: string;
  unit: 'GFLOP/s' | 'ms';
  value: number;
}

interface ChildResult {
  threads: number;
  threadMode: string;
  measures: Measure[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time of `f` in ms; wasm runs synchronously, so no read-back is needed. */
function time(f: () => tf.Tensor, reps: number, warmup = 2): number {
  for (let i = 0; i < warmup; i++) tf.tidy(f).dispose();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = tf.tidy(f);
    ts.push(performance.now() - t0);
    out.dispose();
  }
  return median(ts);
}

const r = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 7);

function flopMeasures(reps: number): Measure[] {
  const out: Measure[] = [];
  for (const n of [512, 1024]) {
    const a = r([n, n]);
    const b = r([n, n]);
    const ms = time(() => tf.matMul(a, b), reps);
    out.push({ name: 'matmul', shape: `${n}³`, unit: 'GFLOP/s', value: (2 * n ** 3) / ms / 1e6 });
    tf.dispose([a, b]);
  }
  const convs: [number[], number[], number][] = [
    [[1, 56, 56, 64], [3, 3, 64, 64], 1],
    [[4, 64, 64, 32], [3, 3, 32, 64], 2],
  ];
  for (const [xs, fs, s] of convs) {
    const x = r(xs) as tf.Tensor4D;
    const f = r(fs) as tf.Tensor4D;
    const y = tf.conv2d(x, f, s, 'same');
    const flops = 2 * y.size * fs[0] * fs[1] * fs[2];
    y.dispose();
    const ms = time(() => tf.conv2d(x, f, s, 'same'), reps);
    out.push({ name: `conv2d ${fs[0]}×${fs[1]} stride ${s}`, shape: `${xs.join('×')} → ${fs[3]} ch`, unit: 'GFLOP/s', value: flops / ms / 1e6 });
    tf.dispose([x, f]);
  }
  return out;
}

/** The extra kernels, called as the gradient code calls them; replaced stock kernels timed too. */
function kernelMeasures(reps: number): Measure[] {
  const out: Measure[] = [];
  const run = (name: string, shape: string, f: () => tf.Tensor, stockOf?: string) => {
    out.push({ name, shape, unit: 'ms', value: time(f, reps) });
    if (stockOf) {
      const undo = useStockKernel(stockOf);
      try {
        out.push({ name: `${name} — stock wasm kernel`, shape, unit: 'ms', value: time(f, Math.max(3, Math.ceil(reps / 3)), 1) });
      } finally {
        undo();
      }
    }
  };
  const k = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) => () =>
    tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor;

  const x = r([4, 64, 64, 32]);
  const dy = r([4, 32, 32, 64]);
  const w = r([3, 3, 32, 64]);
  run('Conv2DBackpropFilter 3×3 s2', 'x 4×64×64×32, dy 4×32×32×64', k('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] }));
  run('Conv2DBackpropInput 3×3 s2', 'dy 4×32×32×64 → 4×64×64×32', k('Conv2DBackpropInput', { dy, filter: w }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [4, 64, 64, 32] }), 'Conv2DBackpropInput');
  const xd = r([4, 56, 56, 96]);
  const dyd = r([4, 56, 56, 96]);
  const wd = r([3, 3, 96, 1]);
  run('DepthwiseConv2dNativeBackpropFilter 3×3', 'x 4×56×56×96', k('DepthwiseConv2dNativeBackpropFilter', { x: xd, dy: dyd }, { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 96, 1] }));
  run('DepthwiseConv2dNativeBackpropInput 3×3', 'dy 4×56×56×96', k('DepthwiseConv2dNativeBackpropInput', { dy: dyd, filter: wd }, { strides: 1, dilations: 1, pad: 'same', inputShape: [4, 56, 56, 96] }));
  const rows = r([4096, 256]);
  const ids = tf.tensor1d(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 1000), 'int32');
  run('UnsortedSegmentSum (gather gradient)', '4096×256 rows into 1000', k('UnsortedSegmentSum', { x: rows, segmentIds: ids }, { numSegments: 1000 }));
  const q = r([48, 197, 64]);
  const kk = r([48, 197, 64]);
  run('BatchMatMul q·kᵀ (attention)', '48×197×64 · (48×197×64)ᵀ', () => tf.matMul(q, kk, false, true), 'BatchMatMul');
  const a2 = r([788, 768]);
  const b2 = r([788, 384]);
  run('BatchMatMul aᵀ·b (dense weight gradient)', '(788×768)ᵀ · 788×384', () => tf.matMul(a2, b2, true, false), 'BatchMatMul');
  const big = r([12, 198, 198]);
  run('Slice one head', '1×198×198 of 12×198×198', () => tf.slice(big, [5, 0, 0], [1, 198, 198]), 'Slice');
  const qkv = r([788, 2304]);
  run('SplitV qkv into 3 (tf.split)', '788×2304 → 3 × 788×768', () => tf.concat(tf.split(qkv, 3, 1).slice(0, 1)), 'SplitV');
  tf.dispose([x, dy, w, xd, dyd, wd, rows, ids, q, kk, a2, b2, big, qkv]);
  return out;
}

/** In a fresh process: HST_THREADS decides the pool; BENCH_PART picks what to measure. */
export async function child(): Promise<ChildResult> {
  const info = await initCompute({ backend: 'wasm' });
  const reps = Number(process.env.BENCH_REPS ?? 10);
  const part = process.env.BENCH_PART ?? 'all';
  const measures = [...(part !== 'kernels' ? flopMeasures(reps) : []), ...(part !== 'flops' ? kernelMeasures(reps) : [])];
  return { threads: info.threads, threadMode: info.threadMode, measures };
}

export async function run(): Promise<BenchTable> {
  const cores = os.availableParallelism();
  const one = await runChild<ChildResult>('compute', { HST_THREADS: '1' });
  const all = await runChild<ChildResult>('compute', { HST_THREADS: String(cores) });
  // Data-parallel alternative: `cores` single-thread processes on the same work at once.
  const parallel = await Promise.all(Array.from({ length: cores }, () => runChild<ChildResult>('compute', { HST_THREADS: '1', BENCH_PART: 'flops' })));

  const rows: (string | number)[][] = [];
  for (let i = 0; i < one.measures.length; i++) {
    const m1 = one.measures[i];
    const mN = all.measures[i];
    const dp = m1.unit === 'GFLOP/s' ? parallel.reduce((s, p) => s + (p.measures.find((m) => m.name === m1.name && m.shape === m1.shape)?.value ?? NaN), 0) : null;
    const gain = m1.unit === 'GFLOP/s' ? mN.value / m1.value : m1.value / mN.value;
    rows.push([m1.name, m1.shape, m1.unit, round(m1.value), round(mN.value), `${gain.toFixed(2)}×`, dp === null ? '' : round(dp)]);
  }
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  return {
    title: 'Compute engine (tfjs wasm): 1 thread vs every core, and the extra kernels',
    columns: ['measure', 'shape', 'unit', '1 thread', `${all.threads} threads (${all.threadMode})`, 'speed-up', `${cores} × 1-thread processes (aggregate)`],
    rows,
    notes: [
      `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} logical cores, Node ${process.versions.node}, tfjs ${tf.version_core}; load average at the end ${load} (the machine is shared, so multi-thread numbers vary).`,
      `Median of ${process.env.BENCH_REPS ?? 10} runs after 2 warm-ups (stock kernels: fewer runs); time measured around the op, which runs synchronously on wasm.`,
      'GFLOP/s counts 2·M·N·K for matmul and 2·outputs·KH·KW·Cin for conv. "speed-up" is N threads over 1 thread (time ratio for ms rows).',
      'The last column runs the matmul/conv part in as many single-thread processes at once and adds their GFLOP/s: the throughput of data-parallel workers, for comparison with threads.',
      '"stock wasm kernel" rows time the tfjs-backend-wasm kernel our replacement stands in for, on the same inputs.',
      'Under heavy load (more runnable processes than cores) the threaded build can be slower than one thread, because XNNPACK threads wait on each other; bench/results/compute-quiet-*.md has figures from an idle machine.',
    ],
  };
}

function round(v: number): number {
  return v >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
}
