// The training data pipeline: neutral Dataset → Samples. Each image is decoded (EXIF-oriented, downscaled by
// sharp to no more pixels than the largest zoom needs) and its annotations rasterised once, then kept in an
// LRU cache (by bytes: a run cycles through the whole split every epoch, so a cache smaller than the split
// misses almost every time); every sample call only resamples, jitters and builds targets in JS on typed arrays.
// Deterministic: the augmentation of a sample depends only on the uniforms drawn from the RNG passed in.
import type { Split } from '../../contract/schemas';
import type { Dataset } from '../datasets/types';
import { augmentParams, checkAugmentOptions, colourAndNormalise, drawUniforms, NO_AUGMENT, type AugmentParams } from './augment';
import { decodeImage, ImageDecodeError } from './decode';
import { prepareInstances, type AnnotationRef, type PreparedInstance } from './instances';
import { letterboxTransform, parseSize, type InputSize } from './letterbox';
import { resampleImage, type BaseImage } from './resample';
import { Rng } from './rng';
import { buildTargets } from './targets';
import type { AugmentOptions, Normalisation, Sample, SampleTransform, TrainClasses } from './types';

export type ImageClassRule = 'none' | 'sole-class' | 'whole-image-box';

export interface DataPipelineOptions {
  dataset: Dataset;
  classes: TrainClasses;
  /** square side, or [height, width] */
  size: number | [number, number];
  norm: Normalisation;
  /** null/absent: sample() gives the plain letterboxed image, as evalSample() */
  augment?: AugmentOptions | null;
  seed: number;
  /** only images in these splits (an image without a split counts as 'train'); default: all images */
  split?: Split | Split[];
  /** build semantic maps; default: when the dataset has any polygon or mask annotation */
  semantic?: boolean;
  /**
   * Where SampleTargets.imageClass comes from (the neutral Dataset has no image-level labels):
   * 'none' (default) → −1; 'sole-class' → the class when every kept instance of the image has the same one;
   * 'whole-image-box' → the class of a box annotation covering ≥ 95 % of the image, when exactly one class has
   * one (such boxes are never detection instances under this rule).
   */
  imageClass?: ImageClassRule;
  /** decoded images kept at most (default: no limit but the bytes) */
  cacheSize?: number;
  /** bytes of decoded images and rasterised masks kept at most (default 256 MiB) */
  cacheBytes?: number;
  /** called once per image with each problem found in it (undecodable file, skipped annotation) */
  onWarning?: (message: string) => void;
  /** refuse larger images (default: the store's bound, 268M pixels) */
  maxPixels?: number;
}

export interface FailedImage {
  index: number;
  key: string;
  fileName: string;
  reason: string;
}

export interface DataPipeline {
  /** number of images (after the split filter); sample indices run 0..length−1 */
  readonly length: number;
  readonly size: InputSize;
  /** the dataset image behind a sample index */
  image(index: number): { key: string; fileName: string; datasetIndex: number };
  /** With rng: draws DRAWS_PER_SAMPLE uniforms from it. Without: a fixed augmentation for (seed, index). */
  sample(index: number, rng?: Rng): Promise<Sample>;
  /** No augmentation: centred letterbox. */
  evalSample(index: number): Promise<Sample>;
  /** Samples in order; images that fail to decode are left out (warned once, listed by failed()). */
  batch(indices: readonly number[], rng: Rng): Promise<Sample[]>;
  /** The seeded shuffle of 0..length−1 for an epoch (depends only on seed and epoch). */
  epochOrder(epoch: number): number[];
  /** Images found undecodable so far. */
  failed(): FailedImage[];
}

interface Prepared {
  base: BaseImage;
  instances: PreparedInstance[];
  imageClass: number;
  warnings: string[];
}

export function createDataPipeline(opts: DataPipelineOptions): DataPipeline {
  const { dataset, norm, seed } = opts;
  const size = parseSize(opts.size);
  const names = opts.classes.names;
  if (names.length === 0) throw new Error('training classes: at least one class is needed');
  if (names.length > 254) throw new Error(`training classes: at most 254 classes fit the semantic label map, got ${names.length}`);
  const classIndex = new Map<string, number>();
  names.forEach((n, k) => {
    if (classIndex.has(n)) throw new Error(`training classes: '${n}' is listed twice`);
    classIndex.set(n, k);
  });
  for (let c = 0; c < 3; c++) {
    if (!(Number.isFinite(norm.mean[c]) && norm.std[c] > 0 && Number.isFinite(norm.std[c]))) {
      throw new Error(`normalisation: channel ${c} needs a finite mean and a positive std, got mean ${norm.mean[c]}, std ${norm.std[c]}`);
    }
  }
  if (!Number.isFinite(seed)) throw new Error(`data pipeline: seed must be a number, got ${seed}`);
  const augment = opts.augment ?? null;
  if (augment) checkAugmentOptions(augment);
  const maxZoom = augment ? augment.scaleJitter[1] : 1;
  const semantic = opts.semantic ?? dataset.annotations.some((a) => a.geometry?.kind === 'polygon' || a.geometry?.kind === 'mask');
  const imageClassRule = opts.imageClass ?? 'none';
  const cacheSize = Math.max(1, opts.cacheSize ?? Infinity);
  const cacheBytes = Math.max(0, opts.cacheBytes ?? 256 * 2 ** 20);

  const splits = opts.split === undefined ? null : new Set(Array.isArray(opts.split) ? opts.split : [opts.split]);
  const picked: number[] = [];
  dataset.images.forEach((im, i) => {
    if (!splits || splits.has(im.split ?? 'train')) picked.push(i);
  });
  const byImage = new Map<string, AnnotationRef[]>();
  dataset.annotations.forEach((ann, index) => {
    let list = byImage.get(ann.imageKey);
    if (!list) byImage.set(ann.imageKey, (list = []));
    list.push({ ann, index });
  });

  const keys = new Set(dataset.images.map((im) => im.key));
  const orphans = [...byImage.keys()].filter((k) => !keys.has(k));
  if (orphans.length > 0) {
    const n = orphans.reduce((a, k) => a + byImage.get(k)!.length, 0);
    opts.onWarning?.(`${n} annotation${n === 1 ? '' : 's'} referring to images not in the dataset (first: image key '${orphans[0]}') ignored`);
  }

  const cache = new Map<number, Promise<Prepared>>();
  /** bytes of the cache's settled entries */
  const sizes = new Map<number, number>();
  let cachedBytes = 0;
  function evict(keep: number): void {
    for (const k of cache.keys()) {
      if (cache.size <= cacheSize && cachedBytes <= cacheBytes) return;
      if (k === keep) continue;
      cache.delete(k);
      cachedBytes -= sizes.get(k) ?? 0;
      sizes.delete(k);
    }
  }
  const failures = new Map<number, FailedImage>();
  const warned = new Set<number>();

  function checkIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= picked.length) {
      throw new Error(`data pipeline: sample index ${index} is out of range 0..${picked.length - 1}`);
    }
    return picked[index];
  }

  async function load(index: number): Promise<Prepared> {
    const di = checkIndex(index);
    const im = dataset.images[di];
    const failedBefore = failures.get(index);
    if (failedBefore) throw new ImageDecodeError(im.fileName, failedBefore.reason);
    const hit = cache.get(index);
    if (hit) {
      cache.delete(index); // re-insert: Map order is the LRU order
      cache.set(index, hit);
      return hit;
    }
    const p = prepare(index, di).catch((e: unknown) => {
      if (cache.get(index) === p) cache.delete(index);
      const reason = e instanceof ImageDecodeError ? e.reason : e instanceof Error ? e.message : String(e);
      if (!failures.has(index)) {
        failures.set(index, { index, key: im.key, fileName: im.fileName, reason });
        opts.onWarning?.(`image '${im.fileName}' skipped: ${reason}`);
      }
      throw e instanceof ImageDecodeError ? e : new ImageDecodeError(im.fileName, reason);
    });
    cache.set(index, p);
    evict(index);
    void p.then(
      (prep) => {
        // still cached (not evicted while it was decoding): count its bytes
        if (cache.get(index) !== p) return;
        const bytes = prep.base.data.byteLength + prep.instances.reduce((a, i) => a + (i.mask?.data.byteLength ?? 0), 0);
        sizes.set(index, bytes);
        cachedBytes += bytes;
        evict(index);
      },
      () => {},
    );
    return p;
  }

  async function prepare(index: number, di: number): Promise<Prepared> {
    const im = dataset.images[di];
    if (!im.absPath) throw new ImageDecodeError(im.fileName, 'the file is missing');
    const fit = { width: Math.ceil(size.width * maxZoom), height: Math.ceil(size.height * maxZoom) };
    const dec = await decodeImage(im.absPath, { fitInside: fit, maxPixels: opts.maxPixels, name: im.fileName, ...(im.crop ? { crop: im.crop } : {}) });
    const warnings: string[] = [];
    if (im.width > 0 && im.height > 0 && (im.width !== dec.origWidth || im.height !== dec.origHeight)) {
      warnings.push(`image '${im.fileName}': declared ${im.width}×${im.height} but decodes (EXIF-oriented) to ${dec.origWidth}×${dec.origHeight}; annotations are read in the decoded frame`);
    }
    let refs = byImage.get(im.key) ?? [];
    let imageClass = -1;
    if (imageClassRule === 'whole-image-box') {
      const whole = refs.filter((r) => coversImage(r, dec.origWidth, dec.origHeight) && classIndex.has(r.ann.className));
      const cls = new Set(whole.map((r) => classIndex.get(r.ann.className)!));
      if (cls.size === 1) imageClass = [...cls][0];
      refs = refs.filter((r) => !whole.includes(r));
    }
    const { instances, warnings: annWarnings } = prepareInstances(refs, {
      imageName: im.fileName,
      origW: dec.origWidth,
      origH: dec.origHeight,
      baseW: dec.width,
      baseH: dec.height,
      classIndex,
    });
    warnings.push(...annWarnings);
    if (imageClassRule === 'sole-class') {
      const cls = new Set(instances.filter((i) => !i.crowd).map((i) => i.label));
      if (cls.size === 1) imageClass = [...cls][0];
    }
    if (!warned.has(index)) {
      warned.add(index);
      for (const w of warnings) opts.onWarning?.(w);
    }
    return { base: dec, instances, imageClass, warnings };
  }

  function build(index: number, prep: Prepared, p: AugmentParams): Sample {
    const di = picked[index];
    const im = dataset.images[di];
    const { base } = prep;
    const t = letterboxTransform(base.origWidth, base.origHeight, size, p);
    const { rgb, inside } = resampleImage(base, t, size.height, size.width);
    colourAndNormalise(rgb, inside, p, norm);
    const targets = buildTargets(prep.instances, t, base, size.height, size.width, { semantic, imageClass: prep.imageClass });
    return { imageId: di, key: im.key, height: size.height, width: size.width, image: rgb, targets, transform: t, warnings: prep.warnings.slice() };
  }

  function paramsFrom(u: Float64Array | null): AugmentParams {
    return augment && u ? augmentParams(augment, u) : NO_AUGMENT;
  }

  return {
    length: picked.length,
    size,
    image(index) {
      const di = checkIndex(index);
      const im = dataset.images[di];
      return { key: im.key, fileName: im.fileName, datasetIndex: di };
    },
    async sample(index, rng) {
      checkIndex(index);
      const u = drawUniforms(rng ?? new Rng(seed, 0x5a4d, index));
      return build(index, await load(index), paramsFrom(u));
    },
    async evalSample(index) {
      return build(index, await load(index), NO_AUGMENT);
    },
    async batch(indices, rng) {
      for (const i of indices) checkIndex(i);
      // draw everything before the first await, so the stream does not depend on decode timing
      const draws = indices.map(() => drawUniforms(rng));
      const loaded = await Promise.all(indices.map((i) => load(i).catch(() => null)));
      const out: Sample[] = [];
      indices.forEach((index, j) => {
        const prep = loaded[j];
        if (prep) out.push(build(index, prep, paramsFrom(draws[j])));
      });
      return out;
    },
    epochOrder(epoch) {
      if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`data pipeline: epoch must be a non-negative integer, got ${epoch}`);
      return new Rng(seed, 0xe90c, epoch).shuffle(Array.from({ length: picked.length }, (_, i) => i));
    },
    failed() {
      return [...failures.values()].sort((a, b) => a.index - b.index);
    },
  };
}

function coversImage(r: AnnotationRef, W: number, H: number): boolean {
  const g = r.ann.geometry;
  if (g?.kind !== 'box') return false;
  const x1 = Math.max(0, g.x);
  const y1 = Math.max(0, g.y);
  const x2 = Math.min(W, g.x + g.w);
  const y2 = Math.min(H, g.y + g.h);
  return x2 > x1 && y2 > y1 && (x2 - x1) * (y2 - y1) >= 0.95 * W * H;
}

/** One image file → the normalised, letterboxed network input and its transform (prediction on new images). */
export async function prepareInput(
  file: string,
  size: number | [number, number],
  norm: Normalisation,
  opts: { name?: string; maxPixels?: number } = {},
): Promise<{ image: Float32Array; height: number; width: number; transform: SampleTransform }> {
  const s = parseSize(size);
  const base = await decodeImage(file, { fitInside: s, maxPixels: opts.maxPixels, name: opts.name });
  const t = letterboxTransform(base.origWidth, base.origHeight, s);
  const { rgb, inside } = resampleImage(base, t, s.height, s.width);
  colourAndNormalise(rgb, inside, NO_AUGMENT, norm);
  return { image: rgb, height: s.height, width: s.width, transform: t };
}
