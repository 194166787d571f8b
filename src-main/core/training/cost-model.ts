// The plan's time estimate: a per-step cost model, per image and per pixel of input, that starts from reference
// timings of the 2-core development VM (docs/compute.md, bench/results/finetune.md) and is replaced by what a
// finished run measured on this machine (recorded in <dataDir>/plan-costs.json by the studio's train service).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CostKey {
  backend: string;
  mode: 'fast' | 'full';
  side: string;
}

export interface CostEntry extends CostKey {
  /** training milliseconds per image per step, scaled to a 128×128 input */
  msPerImage128: number;
  /** when it was measured (ISO) */
  at: string;
}

/**
 * Reference ms per image per step at 128 px, measured on the 2-core VM (wasm, 2 gradient helpers): fast mode on
 * the 'lite' side widths 95 ms (demo: 10.5 img/s at batch 8), 'small' ≈ 1/0.6 of that; full mode runs the ViT
 * forward and backward every step (ViT-Ti, 160 px: 366–584 ms/img ⇒ ≈ 300 at 128 px). Native backends: a
 * cautious guess until a run measures them.
 */
const REFERENCE: Record<string, number> = {
  'cpu|fast|lite': 95, 'cpu|fast|small': 160, 'cpu|fast|classification': 110, 'cpu|fast|dense': 400,
  'cpu|full|lite': 300, 'cpu|full|small': 350, 'cpu|full|classification': 320, 'cpu|full|dense': 600,
  'native|fast': 15, 'native|full': 40,
};

/** One ViT forward in GFLOP (matmuls: 12·D² per token per block, plus attention 2·T²·D). */
export function vitGflops(size: number, shape: { embed_dim: number; depth: number; patch_size: number }): number {
  const t = (size / shape.patch_size) ** 2 + 1;
  const d = shape.embed_dim;
  return (2 * shape.depth * (12 * t * d * d + 2 * t * t * d)) / 1e9;
}

export interface EstimateInput extends CostKey {
  accelerated: boolean;
  size: number;
  batchSize: number;
  steps: number;
  /** ViT passes the cache needs (fast mode): train samples × 2 (flip) + val samples */
  cachePasses: number;
  /** what fills the cache on CPU: onnxruntime-node when it is installed (features/onnx-vit.ts), else tfjs */
  vitRuntime?: 'onnxruntime' | 'tfjs';
  vitShape: { embed_dim: number; depth: number; patch_size: number };
  /** evaluations during and after the run, and the samples each one predicts */
  evaluations: number;
  valSamples: number;
}

export interface RunEstimate {
  seconds: number;
  stepMs: number;
  cacheSeconds: number;
  evalSeconds: number;
  basis: 'measured' | 'reference';
}

function refMs(k: CostKey, accelerated: boolean): number {
  if (accelerated) return REFERENCE[`native|${k.mode}`];
  return REFERENCE[`cpu|${k.mode}|${k.side}`] ?? REFERENCE[`cpu|${k.mode}|small`];
}

/**
 * A step's cost per image against its input side, relative to 128 px: sublinear in the pixels, because per-kernel
 * overhead weighs less on larger inputs. Measured on the 2-core VM in fast mode: 'lite' 95 ms/img at 128 px and
 * 400 at 384 px, 'small' 645 at 384 against 160 at 128 (bench/results/finetune.md, realphoto.md): both 9^0.65.
 */
export const PIXEL_EXPONENT = 0.65;
export const pixelFactor = (size: number): number => ((size / 128) ** 2) ** PIXEL_EXPONENT;

export function estimateRun(i: EstimateInput, measured: readonly CostEntry[] = []): RunEstimate {
  const m = measured.find((e) => e.backend === i.backend && e.mode === i.mode && e.side === i.side);
  const perImage128 = m?.msPerImage128 ?? refMs(i, i.accelerated);
  const px = pixelFactor(i.size);
  const stepMs = perImage128 * px * i.batchSize;
  // ViT passes into the cache. tfjs: ≈ 40 GFLOP/s effective (wasm, ViT-S/16 at 384 px: 710 ms for 30.6 GFLOP);
  // onnxruntime's CPU kernels ≈ 100 GFLOP/s with the image's decode and resampling (bench/results/realphoto.md:
  // 314 ms a pass in the fill at 384 px; bench/results/vit-pass.md has the pass alone). Full mode runs the ViT
  // inside every step and evaluation on wasm ≈ 12 GFLOP/s at the small sizes it trains (docs/compute.md).
  const gflops = vitGflops(i.size, i.vitShape);
  const rate = i.accelerated ? 40 : i.mode === 'fast' ? (i.vitRuntime === 'onnxruntime' ? 100 : 40) : 12;
  const passMs = (1000 * gflops) / rate;
  const cacheSeconds = i.mode === 'fast' ? (i.cachePasses * passMs) / 1000 : 0;
  // an evaluation predicts each val sample once: roughly a third of a training step's per-image cost, plus the ViT
  const evalSeconds = (i.evaluations * i.valSamples * (perImage128 * px * 0.35 + (i.mode === 'fast' ? 0 : passMs))) / 1000;
  const seconds = (i.steps * stepMs) / 1000 + cacheSeconds + evalSeconds;
  return { seconds: Math.round(seconds), stepMs: Math.round(stepMs), cacheSeconds: Math.round(cacheSeconds), evalSeconds: Math.round(evalSeconds), basis: m ? 'measured' : 'reference' };
}

const FILE = 'plan-costs.json';

export function readCosts(dataDir: string): CostEntry[] {
  const f = join(dataDir, FILE);
  if (!existsSync(f)) return [];
  try {
    const v = JSON.parse(readFileSync(f, 'utf8')) as unknown;
    return Array.isArray(v) ? (v as CostEntry[]).filter((e) => e && typeof e.msPerImage128 === 'number' && e.msPerImage128 > 0) : [];
  } catch {
    return []; // a damaged file only loses the measurements: the reference model still answers
  }
}

/** Records a finished run's training speed (images/s at its size), replacing the entry for the same key. */
export function recordCost(dataDir: string, key: CostKey, size: number, imagesPerSec: number, now = new Date()): CostEntry | null {
  if (!(imagesPerSec > 0 && size > 0)) return null;
  const entry: CostEntry = { ...key, msPerImage128: 1000 / imagesPerSec / pixelFactor(size), at: now.toISOString() };
  const all = readCosts(dataDir).filter((e) => !(e.backend === key.backend && e.mode === key.mode && e.side === key.side));
  all.push(entry);
  mkdirSync(dataDir, { recursive: true });
  const tmp = join(dataDir, `${FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(all, null, 1));
  renameSync(tmp, join(dataDir, FILE));
  return entry;
}
