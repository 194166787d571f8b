// Glue: run the trainer's own prediction/evaluation code (TaskModel.predict → evaluateModel) with the ViT pass
// taken from the feature cache. TaskModel.predict calls hst.forward synchronously at its start, and
// hst.forward calls this.vitForward, so shadowing vitForward on the instance for the duration of one predict
// call substitutes the cached outputs without copying any of the trainer's post-processing. Anything the cache
// cannot serve (a miss, an unexpected batch) falls through to the real ViT.
import type { tf } from '../compute/engine';
import { toVitOutput, type CachedFeatures, type FeatureCache } from '../features/feature-cache';
import type { VitOutput } from '../model/hst';
import type { PredictInput, PredictSettings, TaskModel, TaskPrediction } from '../task-model/task-model';

type Keyed = PredictInput & { key?: string };

/**
 * A view of `model` whose predict() reads the ViT pass from `cache`; `hashOf(key)` maps a sample's dataset
 * key to its image hash. Call restore() when done (also safe to call twice).
 */
export function cachedPredictor(model: TaskModel, cache: FeatureCache, hashOf: (key: string) => string | undefined): { model: TaskModel; restore(): void; hits(): number; misses(): number } {
  const hst = model.hst;
  let pending: CachedFeatures[] | null = null;
  let hits = 0;
  let misses = 0;
  const own = Object.prototype.hasOwnProperty.call(hst, 'vitForward');
  const original = hst.vitForward;
  hst.vitForward = function (x: tf.Tensor4D, opts?: Parameters<typeof original>[1]): VitOutput {
    const p = pending;
    pending = null;
    if (p && p.length === x.shape[0]) return toVitOutput(p);
    return original.call(hst, x, opts);
  };
  const view = Object.create(model) as TaskModel;
  view.predict = async (inputs: readonly PredictInput[], opts?: PredictSettings): Promise<TaskPrediction[]> => {
    const feats = await Promise.all(
      (inputs as readonly Keyed[]).map((s) => {
        const h = s.key !== undefined ? hashOf(s.key) : undefined;
        return h ? cache.get(h, s.transform.flipped) : Promise.resolve(null);
      }),
    );
    if (feats.every((f): f is CachedFeatures => f !== null)) {
      pending = feats;
      hits += inputs.length;
    } else misses += inputs.length;
    try {
      return await model.predict(inputs, opts);
    } finally {
      pending = null;
    }
  };
  let restored = false;
  return {
    model: view,
    hits: () => hits,
    misses: () => misses,
    restore() {
      if (restored) return;
      restored = true;
      if (own) hst.vitForward = original;
      else delete (hst as { vitForward?: unknown }).vitForward;
    },
  };
}
