// Fills the feature cache for a list of image variants (the plain letterbox of a pipeline image, or its flip):
// what a fast fine-tune does before training and what the incremental updater's warm-up does. Big chunks, so
// a fill goes through onnxruntime when it is installed (FeatureCache.ensure decides), with progress and cancel
// between chunks; entries already cached are not decoded again.
import type { HstModel } from '../model/hst';
import type { DataPipeline } from '../data/pipeline';
import { variantRng } from '../data/variant-rng';
import type { FeatureCache, FeatureSource } from './feature-cache';

export interface CacheVariant {
  pipe: DataPipeline;
  index: number;
  flipped: boolean;
  /** the image's content hash (the cache key); variants without one are skipped */
  hash: string | undefined;
}

const CHUNK = 64;

export async function fillFeatureCache(
  cache: FeatureCache,
  hst: HstModel,
  variants: readonly CacheVariant[],
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ computed: number; filledWith: FeatureCache['filledWith'] }> {
  let computed = 0;
  let filledWith: FeatureCache['filledWith'] = null;
  for (let i = 0; i < variants.length; i += CHUNK) {
    if (opts.signal?.aborted) throw new Error('cancelled while caching ViT features');
    const sources: FeatureSource[] = [];
    for (const v of variants.slice(i, i + CHUNK)) {
      if (!v.hash || cache.has(v.hash, v.flipped)) continue;
      // an undecodable image was reported by the pipeline; training skips it too
      const s = await (v.flipped ? v.pipe.sample(v.index, variantRng(true)) : v.pipe.evalSample(v.index)).catch(() => null);
      if (s) sources.push({ imageHash: v.hash, flipped: v.flipped, image: s.image, height: s.height, width: s.width });
    }
    computed += await cache.ensure(hst, sources, { batchSize: 8, signal: opts.signal });
    // onnxruntime wins the label: a fill is 'with onnxruntime' when any chunk went through it
    if (filledWith !== 'onnxruntime') filledWith = cache.filledWith ?? filledWith;
    opts.onProgress?.(Math.min(i + CHUNK, variants.length), variants.length);
  }
  return { computed, filledWith };
}
