// The shapes a ViT pass travels in between the feature cache, its ONNX pass and the trainers. Kept apart from
// feature-cache.ts so the ONNX pass and the trainer's helpers can name them without importing the cache.
import type { Sample } from '../data/types';
import type { VitOutput } from '../model/hst';

/** One image's ViT pass (batch 1), float32 in memory. */
export interface CachedFeatures {
  depth: number;
  h: number;
  w: number;
  dim: number;
  /** [depth, dim]: layer l's Meta Token output */
  meta: Float32Array;
  /** [depth, h, w, dim]: layer l's patch tokens */
  patches: Float32Array;
}

/** One image's ViT pass as the cache stores it: CachedFeatures' arrays as float16 bits (round to nearest even). */
export interface HalfFeatures {
  depth: number;
  h: number;
  w: number;
  dim: number;
  meta: Uint16Array;
  patches: Uint16Array;
}

/** A batch's ViT pass as plain arrays, one per layer (each its own buffer, so it can be transferred). */
export interface VitArrays {
  /** per layer [B, 1, dim] */
  metaOut: { shape: number[]; data: Float32Array }[];
  /** per layer [B, h, w, dim] */
  patches: { shape: number[]; data: Float32Array }[];
}

/**
 * Where a fast-mode trainer gets each batch's ViT pass (same order as the samples), typically the float16
 * feature cache. The tensors are the trainer's to dispose. `arrays`, when there, gives the same pass as plain
 * arrays (what the gradient helpers are sent).
 */
export type VitSource = ((samples: readonly Sample[]) => Promise<VitOutput>) & { arrays?: (samples: readonly Sample[]) => Promise<VitArrays> };
