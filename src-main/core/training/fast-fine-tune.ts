// Fast fine-tune: the frozen ViT runs once per image (and once per flip) into the project's feature cache, then
// the run trains the side network, bridges and heads from the cache — the Meta Tokens and ViT LayerNorms stay
// at their initial values (the spec's fast incremental mode, applied from the first run). On CPU backends this
// removes the ViT's forward and backward from every step; the price is no scale/colour augmentation (the cache
// holds the plain letterbox and its flip) and untuned MetaT/LayerNorms. The cache keys are the incremental
// updater's (backbone id, input size, frozen-parameter hash), so label-by-label updates after this run find
// every image already cached.
import { cacheVitSource } from '../features/cache-vit-source';
import { FeatureCache } from '../features/feature-cache';
import { fillFeatureCache, type CacheVariant } from '../features/fill-cache';
import { frozenParamsVersion } from '../features/frozen-version';
import { cachedPredictor } from '../incremental/cached-vit';
import { backboneId } from '../features/backbone-id';
import type { FullProjectStore } from '../store/types';
import type { DataPipeline } from '../data/pipeline';
import type { AugmentOptions } from '../data/types';
import type { TaskModelSpec } from '../task-model/model-spec';
import type { TaskModel } from '../task-model/task-model';
import type { VitSource } from '../features/types';
import { cacheKeyOf, type TileOrigin } from './tile-dataset';

/** What fast mode can augment with: the cached letterbox and its horizontal flip. */
export const FAST_AUGMENT: AugmentOptions = { hflip: 0.5, scaleJitter: [1, 1], colorJitter: 0 };

export interface FastTraining {
  cache: FeatureCache;
  vitSource: VitSource;
  /** the model as a predictor whose ViT pass comes from the cache (restore() when done) */
  predictor(model: TaskModel): { model: TaskModel; restore(): void };
  /** ViT passes computed to fill the cache, and by what */
  computed: number;
  filledWith: 'onnxruntime' | 'tfjs' | null;
}

/**
 * Fills the cache for every train image (plain + flipped) and val image (plain), in chunks so that progress
 * shows and a cancel lands between chunks.
 */
export async function prepareFastTraining(
  store: FullProjectStore,
  model: TaskModel,
  spec: TaskModelSpec,
  train: DataPipeline,
  val: DataPipeline,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; tileOf?: ReadonlyMap<string, TileOrigin> } = {},
): Promise<FastTraining> {
  const hashOf = new Map(store.listImages().items.map((i) => [String(i.id), i.hash]));
  const hash = cacheKeyOf(hashOf, opts.tileOf);
  const cache = new FeatureCache({ store, backbone: backboneId(spec, model), size: spec.inputSize, paramsVersion: frozenParamsVersion(model.hst) });
  if (cache.maxBytes <= 0) throw new Error('fast fine-tune needs the feature cache, whose size budget (features.cacheBytes) is 0: raise it or train in full mode');
  const variants: CacheVariant[] = [];
  const add = (pipe: DataPipeline, index: number, flipped: boolean) => variants.push({ pipe, index, flipped, hash: hash(pipe.image(index).key) });
  for (let i = 0; i < train.length; i++) add(train, i, false), add(train, i, true);
  for (let i = 0; i < val.length; i++) add(val, i, false);
  const { computed, filledWith } = await fillFeatureCache(cache, model.hst, variants, opts);
  return {
    cache,
    vitSource: cacheVitSource(cache, model.hst, hash),
    predictor: (m) => cachedPredictor(m, cache, hash),
    computed,
    filledWith,
  };
}

/**
 * The default mode for a backend: fast on CPU-class backends (wasm, cpu), where the ViT's forward + backward is
 * most of a step; full on native/GPU ones, where the whole HST recipe is affordable.
 */
export function defaultTrainMode(backend: string | undefined): 'fast' | 'full' {
  return isNativeBackend(backend) ? 'full' : 'fast';
}

/** tfjs-node (CPU or GPU) and the browser GPU backends: where the plan affords the full recipe and larger inputs. */
export function isNativeBackend(backend: string | undefined): boolean {
  return ['tensorflow', 'webgpu', 'webgl'].includes(backend ?? '');
}
