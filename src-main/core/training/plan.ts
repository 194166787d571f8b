// THE planner: every setting of a fine-tune run (tasks, input size, tiling, steps, batch, learning rate, mode,
// side widths, FPN width, val split, time estimate) is decided here, from the project's statistics, the compute
// backend and the user's overrides. The Fine-tune button (app/train-service.ts) and `hst-studio train`
// (cli/commands/train.ts → train-project.ts) both plan with it; nothing else holds defaults for a run.
// Pure: no I/O (the callers gather the statistics, the installed backbone and the measured costs).
import type { TrainOverrides, TrainPlan } from '../../contract/api';
import type { PlanStats } from './plan-stats';
import { estimateRun, type CostEntry } from './cost-model';
import { DEFAULT_VAL_FRACTION, drawHoldout } from './holdout';
import { tileCount, type TileSpec } from './tiles';

/** What the planner needs of the compute backend; a new backend (webgpu, …) only has to say whether it is accelerated. */
export interface PlanBackend {
  name: string;
  /** a GPU or native-CPU backend (tfjs-node, webgpu): full mode and larger inputs are affordable */
  accelerated: boolean;
  /** what fills the feature cache on CPU (onnxruntime-node is ~2.5× faster than tfjs-wasm); default tfjs */
  vitRuntime?: 'onnxruntime' | 'tfjs';
}

export interface PlanBackbone {
  /** installed id, or 'random' */
  id: string;
  shape: { embed_dim: number; depth: number; patch_size: number };
}

export interface PlanInput {
  stats: PlanStats;
  tasks: string[];
  backend: PlanBackend;
  backbone: PlanBackbone;
  overrides?: TrainOverrides;
  /** measured costs of this machine (cost-model.ts); the reference model answers without them */
  costs?: readonly CostEntry[];
  /**
   * whether the trainer and predictor run on tiles (tiles.ts). Until they do, a project that needs tiles is
   * planned at the largest size with a reason that says what tiling would give, instead of a plan it cannot run.
   */
  tilingSupported?: boolean;
}

/** The trainer cuts photos into tiles (tile-dataset.ts); the input stays for tests of a planner without them. */
export const TILING_SUPPORTED = true;

/** An object must keep about two stride-8 cells across after resizing, or the finest FPN level misses it. */
export const MIN_OBJECT_PX = 16;
/** a CPU run (cache fill, steps, evaluations) is planned to finish within about this many seconds */
export const CPU_TRAIN_BUDGET_S = 600;
const TINY = { size: 64, steps: 5, batchSize: 2, lr: 2e-3 };
const MAX_TILES_PER_IMAGE = 64;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))];
}

const ceil32 = (x: number) => Math.ceil(x / 32) * 32;

interface SizeChoice {
  size: number;
  tiles: (TileSpec & { perImage: number }) | null;
  reason: string;
}

/**
 * Overlap of neighbouring tiles: about the size of the larger objects that fit in half a tile (so each is whole
 * in some tile; bigger ones are cut anyway), 10–50 % of a tile.
 */
function overlapFor(tile: number, sides: readonly number[]): number {
  const fit = sides.filter((s) => s <= tile / 2);
  const big = fit.length ? quantile(fit, 0.9) : 0;
  return Math.min(Math.floor(tile / 2), Math.max(Math.round(tile * 0.1), Math.round(big)));
}

/** Mean tiles per labelled photo (a photo no larger than a tile is one). */
export function tilesPerImage(stats: PlanStats, spec: TileSpec): number {
  const counts = stats.imageSizes.filter((s) => s.width > 0).map((s) => tileCount(s.width, s.height, spec));
  return counts.length ? Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 10) / 10 : 1;
}

/**
 * The smallest tiles from `tile0` up (×1.25 each time) whose mean count per photo `ok` accepts; null once tiles
 * no longer cut the larger photos (90th percentile of the long side ≤ 1.25 tiles), where tiling gains nothing.
 */
export function growTiles(stats: PlanStats, tile0: number, ok: (perImage: number) => boolean): (TileSpec & { perImage: number }) | null {
  const sides = stats.objects.map((o) => o.side);
  const photos = stats.imageSizes.map((s) => Math.max(s.width, s.height)).filter((v) => v > 0);
  const large = photos.length ? quantile(photos, 0.9) : 0;
  for (let tile = tile0; large > tile * 1.25; tile = Math.round(tile * 1.25)) {
    const spec = { size: tile, overlap: overlapFor(tile, sides) };
    const perImage = tilesPerImage(stats, spec);
    if (ok(perImage)) return { ...spec, perImage };
  }
  return null;
}

const pct = (v: number) => Math.round(v * 10) / 10;

/**
 * Input size from the objects: the smallest objects (10th percentile of √(w·h)) must stay ≥ MIN_OBJECT_PX after
 * the photo is resized to the input. From the backend's base size up to its largest affordable size; beyond that,
 * photos larger than a tile are cut into overlapping tiles at the largest size instead of being shrunk. The
 * tiles are as small as keeps those objects ≥ MIN_OBJECT_PX, grown while a photo would need more than
 * MAX_TILES_PER_IMAGE of them on average.
 */
/** The small objects (10th percentile, photo pixels) that size the tiles: those in photos at least half the largest. */
function tileObjectSide(stats: PlanStats): number {
  const photos = stats.imageSizes.map((s) => Math.max(s.width, s.height)).filter((v) => v > 0);
  const large = photos.length ? quantile(photos, 0.9) : 0;
  const cut = stats.objects.filter((o) => o.imageMax >= large / 2);
  return quantile((cut.length ? cut : stats.objects).map((o) => o.side), 0.1);
}

export function chooseSize(stats: PlanStats, base: number, max: number, allowTiles = true): SizeChoice {
  const rel = stats.objects.filter((o) => o.imageMax > 0).map((o) => o.side / o.imageMax);
  if (rel.length === 0) return { size: base, tiles: null, reason: `${base} px: the backend's base size (no object sizes known)` };
  const small = quantile(rel, 0.1);
  const need = MIN_OBJECT_PX / small;
  const smallPx = pct(small * base);
  if (need <= base) return { size: base, tiles: null, reason: `${base} px: the smallest objects (10th percentile) stay ${smallPx} px across` };
  if (need <= max) {
    const size = ceil32(need);
    return { size, tiles: null, reason: `${size} px: keeps the smallest objects (10th percentile, ${Math.round(small * 1000) / 10} % of the photo) ≥ ${MIN_OBJECT_PX} px` };
  }
  const photos = stats.imageSizes.map((s) => Math.max(s.width, s.height)).filter((v) => v > 0);
  const large = photos.length ? quantile(photos, 0.9) : 0;
  // One tile size serves the whole project, so it is sized for its large photos (at least half the size of the
  // largest): in a project of 640 px and 4000 px photos, the 640 px photos' 14 px objects would otherwise cut
  // every 4000 px photo into dozens of tiles, for objects that sit in photos smaller than such a tile anyway.
  const smallAbs = tileObjectSide(stats);
  const tile = Math.floor((smallAbs * max) / MIN_OBJECT_PX);
  const whole = `the smallest objects (10th percentile) shrink to ${pct(small * max)} px`;
  if (!allowTiles || !(large > tile * 1.25) || tile < 32) {
    return { size: max, tiles: null, reason: `${max} px: the largest this backend affords; ${whole}${allowTiles ? '' : ' (tiling off)'}` };
  }
  const spec = growTiles(stats, tile, (n) => n <= MAX_TILES_PER_IMAGE);
  if (!spec) {
    return { size: max, tiles: null, reason: `${max} px: tiling would need more than ${MAX_TILES_PER_IMAGE} tiles per photo; ${whole}` };
  }
  const grown = spec.size > tile ? ` (tiles of ${tile} px would need more than ${MAX_TILES_PER_IMAGE} per photo: the smallest objects become ${pct((smallAbs * max) / spec.size)} px)` : '';
  return {
    size: max, tiles: spec,
    reason: `tiles of ${spec.size} px (overlap ${spec.overlap}) resized to ${max} px, ~${spec.perImage} per photo: the smallest objects (${Math.round(smallAbs)} px in photos up to ${Math.round(large)} px) would shrink below ${MIN_OBJECT_PX} px on the whole photo${grown}`,
  };
}

export function planTrainingRun(input: PlanInput): TrainPlan {
  const { stats, tasks, backend, backbone } = input;
  const adv = input.overrides ?? {};
  if (stats.trainImages + stats.valImages === 0) throw new Error('no labelled image is in the train split: label more images (or move some to train)');
  const preset = adv.preset ?? 'auto';
  const mode = adv.mode ?? (backend.accelerated ? 'full' : 'fast');
  const reasons: string[] = [];

  // the val split: the project's, or a seeded hold-out of the labelled images when it has none
  let trainImages = stats.trainImages;
  let valImages = stats.valImages;
  let val: NonNullable<TrainPlan['val']>;
  if (stats.valImages > 0 && adv.valFraction === undefined) val = { source: 'project', fraction: null, seed: null, keys: [] };
  else {
    const fraction = adv.valFraction ?? DEFAULT_VAL_FRACTION;
    const seed = adv.valSeed ?? 0;
    const keys = [...drawHoldout(stats.labelled, fraction, seed)].sort();
    valImages = keys.length;
    trainImages = stats.labelled.length - keys.length;
    val = { source: 'holdout', fraction, seed, keys };
    reasons.push(`val: ${keys.length} of ${stats.labelled.length} labelled images held out (${Math.round(fraction * 100)} %, seed ${seed}, every class with 2+ images represented)`);
  }
  if (trainImages === 0) throw new Error('no labelled image is in the train split: label more images (or move some to train)');

  let base: { size: number; steps: number; batchSize: number; lr: number; fpnWidth?: number; side?: TrainPlan['side'] };
  let tiles: TrainPlan['tiles'] = null;
  let samples = trainImages;
  if (preset === 'tiny') base = { ...TINY };
  else {
    // A fast native backend affords 224 px. On CPU/wasm a step's cost is mostly per-kernel overhead: in fast mode a
    // batch of 8 costs ~1.8× a batch of 4 and reaches the same AP in about half the steps, and 128 px costs ~0.7×
    // of 160 px per step (bench/finetune.ts). Full mode and small projects keep 160 px.
    const cpuFast = !backend.accelerated && mode === 'fast' && trainImages >= 16;
    const baseSize = backend.accelerated ? 224 : cpuFast ? 128 : 160;
    const maxSize = backend.accelerated ? 640 : 384;
    let pick: SizeChoice = adv.size ? { size: adv.size, tiles: null, reason: `${adv.size} px: set by the user` } : chooseSize(stats, baseSize, maxSize, adv.tiles !== false);
    if (pick.tiles && !(input.tilingSupported ?? TILING_SUPPORTED)) {
      pick = { size: pick.size, tiles: null, reason: `${pick.size} px, the largest this backend affords; ${pick.reason.replace(/^tiles/, 'tiles')} would keep the small objects, but training on tiles is not available yet` };
    }
    if (pick.tiles && !backend.accelerated) pick = affordTiles(pick, stats, { backend, mode, side: adv.side ?? (cpuFast ? 'lite' : 'small'), trainImages, valImages, vitShape: backbone.shape, costs: input.costs ?? [] });
    reasons.push(pick.reason);
    tiles = pick.tiles;
    if (tiles) samples = Math.round(trainImages * tiles.perImage);
    const size = pick.size;
    // large inputs on CPU: the batch halves to stay inside wasm's 4 GB heap (docs/compute.md)
    // On a GPU (webgpu) a step is bound by kernel launches, not FLOPs, at batch 4: 8 images per step use it better.
    // WebGPU does not expose the GPU's memory size; the full recipe at 224 px and batch 8 needs ~1–3 GB with
    // ViT-S/B (bench/gpu.ts reports what it holds), and no single tensor nears the 128 MiB binding minimum.
    const gpuBatch = backend.name === 'webgpu' && samples >= 16;
    const batchSize = cpuFast ? (size > 256 ? 4 : 8) : gpuBatch ? 8 : samples >= 8 ? 4 : 2;
    const epochs = samples < 50 ? 30 : samples < 500 ? 15 : 6;
    let steps = Math.min(3000, Math.max(50, Math.ceil((epochs * samples) / batchSize)));
    // On CPU backends the heads' convolutions are a large share of a fast-mode step: a 32-wide FPN halves them.
    // Fast mode trains only side network + heads, which tolerate a higher learning rate (×√2 for the batch of 8).
    // The 'lite' side widths cost ~0.6× of 'small' per step and reach the demo's box AP50 0.8 in fewer steps.
    if (backend.accelerated) base = { size, steps, batchSize, lr: 2e-3 };
    else if (cpuFast) base = { size, steps, batchSize, lr: batchSize === 8 ? 4.2e-3 : 3e-3, fpnWidth: 32, side: 'lite' };
    else base = { size, steps, batchSize, lr: mode === 'fast' ? 3e-3 : 2e-3, fpnWidth: 32 };
    if (!backend.accelerated && adv.steps === undefined) {
      // the budget is for the whole run: the cache fill and the evaluations come out of it first
      const valSamples0 = Math.round(valImages * (tiles?.perImage ?? 1));
      const fixed = estimateRun({ ...costKey(backend, mode, adv.side ?? base.side ?? 'small'), accelerated: false, size, batchSize: adv.batchSize ?? batchSize, steps: 0, cachePasses: mode === 'fast' ? samples * 2 + valSamples0 : 0, vitShape: backbone.shape, evaluations: 6, valSamples: valSamples0 }, input.costs ?? []);
      const per = estimateRun({ ...costKey(backend, mode, adv.side ?? base.side ?? 'small'), accelerated: false, size, batchSize: adv.batchSize ?? batchSize, steps: 1, cachePasses: 0, vitShape: backbone.shape, evaluations: 0, valSamples: 0 }, input.costs ?? []);
      const fit = Math.floor((CPU_TRAIN_BUDGET_S - fixed.seconds) * 1000 / Math.max(1, per.stepMs));
      if (fit < steps) {
        steps = Math.max(50, fit);
        reasons.push(`${steps} steps: what fits the ${CPU_TRAIN_BUDGET_S / 60}-minute CPU budget after ~${fixed.seconds} s of feature cache and evaluations, at ~${(per.stepMs / 1000).toFixed(1)} s a step (Advanced → Steps for more)`);
      }
      base.steps = steps;
    }
  }
  const size = adv.size ?? base.size;
  const steps = adv.steps ?? base.steps;
  const batchSize = adv.batchSize ?? base.batchSize;
  const side = adv.side ?? base.side;
  const fpnWidth = adv.fpnWidth ?? base.fpnWidth;
  const evalEvery = preset === 'tiny' ? 0 : Math.max(25, Math.round(steps / 5));
  const valSamples = Math.round(valImages * (tiles?.perImage ?? 1));
  const estimate = estimateRun(
    {
      ...costKey(backend, mode, side ?? 'small'), accelerated: backend.accelerated, size, batchSize, steps,
      cachePasses: samples * 2 + valSamples, vitShape: backbone.shape, evaluations: evalEvery > 0 ? Math.floor((steps - 1) / evalEvery) + 1 : 1, valSamples,
    },
    input.costs ?? [],
  );
  return {
    tasks,
    size,
    steps,
    batchSize,
    lr: adv.lr ?? base.lr,
    backbone: backbone.id,
    randomBackbone: backbone.id === 'random',
    trainImages,
    valImages,
    preset,
    mode,
    ...(fpnWidth ? { fpnWidth } : {}),
    ...(side ? { side } : {}),
    // a few evaluations during the run draw the AP curve; the tiny preset stays seconds long
    evalEvery,
    backend: backend.name,
    val,
    tiles,
    estimate,
    reasons,
  };
}

/** Share of the CPU budget that the cache fill and evaluations of a tiled run may take (the rest trains). */
export const TILE_FIXED_SHARE = 0.5;

/**
 * On CPU every tile is a ViT pass into the cache (twice for train tiles: plain and flipped) and a sample of each
 * evaluation: tiles are grown (fewer per photo, the smallest objects a little smaller) until the cache fill and
 * the evaluations take at most TILE_FIXED_SHARE of the budget; where even tiles that barely cut the photos do
 * not fit, the run trains whole photos at the largest size and the reason says why.
 */
function affordTiles(pick: SizeChoice, stats: PlanStats, o: { backend: PlanBackend; mode: 'fast' | 'full'; side: string; trainImages: number; valImages: number; vitShape: PlanBackbone['shape']; costs: readonly CostEntry[] }): SizeChoice {
  const fixed = (perImage: number) => estimateRun({
    ...costKey(o.backend, o.mode, o.side), accelerated: false, size: pick.size, batchSize: 1, steps: 0,
    cachePasses: o.mode === 'fast' ? Math.round(o.trainImages * perImage) * 2 + Math.round(o.valImages * perImage) : 0,
    vitShape: o.vitShape, evaluations: 6, valSamples: Math.round(o.valImages * perImage),
  }, o.costs).seconds;
  const limit = CPU_TRAIN_BUDGET_S * TILE_FIXED_SHARE;
  const first = pick.tiles!;
  const spec = growTiles(stats, first.size, (n) => fixed(n) <= limit);
  if (!spec) {
    return {
      size: pick.size, tiles: null,
      reason: `${pick.size} px, whole photos: tiles of ${first.size} px (~${first.perImage} per photo) would spend ~${fixed(first.perImage)} s on the feature cache and evaluations, and even tiles that barely cut the photos take more than ${Math.round(TILE_FIXED_SHARE * 100)} % of the ${CPU_TRAIN_BUDGET_S / 60}-minute CPU budget (Advanced → Steps, fewer photos, or a GPU backend for tiles)`,
    };
  }
  if (spec.size === first.size) return pick;
  const smallAbs = tileObjectSide(stats);
  return {
    size: pick.size, tiles: spec,
    reason: `${pick.reason.replace(/^tiles of \d+ px \(overlap \d+\)/, `tiles of ${spec.size} px (overlap ${spec.overlap})`).replace(/~[\d.]+ per photo/, `~${spec.perImage} per photo`)}; grown from ${first.size} px (~${first.perImage} per photo) so the feature cache and evaluations (~${fixed(spec.perImage)} s) leave ${100 - Math.round(TILE_FIXED_SHARE * 100)} % of the ${CPU_TRAIN_BUDGET_S / 60}-minute CPU budget to training; the smallest objects become ${pct((smallAbs * pick.size) / spec.size)} px`,
  };
}

export function costKey(backend: PlanBackend, mode: 'fast' | 'full', side: string) {
  return { backend: backend.name, mode, side, vitRuntime: backend.vitRuntime ?? ('tfjs' as const) };
}

/** The plan in one line (the CLI prints it; the Train screen shows the same fields). */
export function formatPlan(p: TrainPlan): string {
  const s = p.estimate?.seconds ?? 0;
  const est = p.estimate ? ` · ${s >= 90 ? `about ${Math.round(s / 60)} min` : s >= 10 ? `about ${s} s` : 'a few seconds'} on this machine (${p.estimate.basis === 'measured' ? 'measured here' : 'reference timings'})` : '';
  const val = p.val?.source === 'holdout' ? ` (held out by the studio: ${Math.round((p.val.fraction ?? 0) * 100)} %, seed ${p.val.seed})` : '';
  const tiles = p.tiles ? ` · tiles ${p.tiles.size} px, overlap ${p.tiles.overlap}, ~${p.tiles.perImage}/photo` : '';
  return (
    `plan: ${p.tasks.join('+')} · ${p.trainImages} train / ${p.valImages} val images${val} · ${p.size} px${tiles} · ${p.steps} steps · batch ${p.batchSize} · lr ${p.lr} · ` +
    `${p.mode ?? 'full'} mode · side ${p.side ?? 'small'}${p.fpnWidth ? ` · FPN ${p.fpnWidth}` : ''} · backbone ${p.randomBackbone ? 'random (untrained)' : p.backbone}${p.backend ? ` · ${p.backend}` : ''}${est}`
  );
}
