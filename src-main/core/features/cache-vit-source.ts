// The trainer's ViT source in fast mode: each batch's ViT pass read from the feature cache, computing (and
// storing) the entries it lacks with the model's own ViT. Fast mode is only exact when a sample's network input
// is the plain letterbox of its image, optionally flipped — what a cache entry (image hash, flipped) stands
// for; a scale- or colour-jittered sample would be paired with features of another input, so it is refused.
import type { HstModel } from '../model/hst';
import type { Sample } from '../data/types';
import type { VitSource } from './types';
import { toVitArrays, vitOutputOf, type CachedFeatures, type FeatureCache } from './feature-cache';

export interface CacheVitSourceStats {
  hits: number;
  computed: number;
}

/**
 * `hashOf(sample.key)` gives the image's content hash (the cache key). Colour jitter cannot be seen from a
 * Sample, so the caller must build the pipeline without it (augment: hflip only); scale jitter is detected.
 */
export function cacheVitSource(cache: FeatureCache, hst: HstModel, hashOf: (key: string) => string | undefined, stats: CacheVitSourceStats = { hits: 0, computed: 0 }): VitSource {
  const plainScale = new Map<string, number>();
  const features = async (samples: readonly Sample[]) => {
    const feats: CachedFeatures[] = [];
    for (const s of samples) {
      const hash = hashOf(s.key);
      if (!hash) throw new Error(`fast training: image ${s.key} has no content hash, so its ViT pass cannot be cached`);
      // every sample of one image must share the letterbox scale: a different one means scale jitter
      const seen = plainScale.get(s.key);
      if (seen === undefined) plainScale.set(s.key, s.transform.scale);
      else if (Math.abs(seen - s.transform.scale) > 1e-9) throw new Error(`fast training: image ${s.key} came with two different scales (scale jitter); fast mode trains on the plain letterbox and its flip only`);
      let f = await cache.get(hash, s.transform.flipped);
      if (!f) {
        await cache.ensure(hst, [{ imageHash: hash, flipped: s.transform.flipped, image: s.image, height: s.height, width: s.width }]);
        f = await cache.get(hash, s.transform.flipped);
        if (!f) throw new Error(`fast training: the feature cache did not keep image ${s.key} (is its size budget 0?)`);
        stats.computed++;
      } else stats.hits++;
      feats.push(f);
    }
    return toVitArrays(feats);
  };
  // tensors for the trainer's own passes; plain arrays for the gradient helpers, without a round trip through
  // tensors on the trainer's backend
  return Object.assign(async (samples: readonly Sample[]) => vitOutputOf(await features(samples)), { arrays: features });
}
