// A random source that makes DataPipeline.sample() return exactly one cacheable variant of an image: the
// plain letterbox (= evalSample) or its horizontal flip. Only valid for pipelines whose augmentation is flips
// alone (hflip 1 or 0.5, scale jitter [1, 1], colour jitter 0): the draws are, in augment.ts's order, flip,
// zoom, placeX/Y and colour.
import type { Rng } from './rng';

export function variantRng(flipped: boolean): Rng {
  const u = [flipped ? 0 : 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
  let i = 0;
  return { next: () => u[i++ % u.length] } as unknown as Rng;
}
