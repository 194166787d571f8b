// A model's predictions for every image of a data pipeline, in each image's own pixels (eval letterbox, no
// augmentation). Shared by the whole-image evaluation and the tiled prediction (each tile is an image here).
import type { DataPipeline } from '../data/pipeline';
import type { TaskModel, TaskName, TaskPrediction } from '../task-model/task-model';

export interface PredictOptions {
  batchSize?: number;
  scoreThreshold?: number;
  signal?: AbortSignal;
  /** predict only these of the model's tasks (default: all), e.g. ['detect'] for boxes alone */
  only?: readonly TaskName[];
}

/** One image's prediction: its dataset image index and key, and the prediction in its own pixels. */
export interface ImagePrediction {
  datasetIndex: number;
  key: string;
  prediction: TaskPrediction;
}

/** Predicts every image of `data`; undecodable images are left out (the pipeline warned). */
export async function predictAll(model: TaskModel, data: DataPipeline, opts: PredictOptions = {}): Promise<ImagePrediction[]> {
  const bs = opts.batchSize ?? 4;
  const out: ImagePrediction[] = [];
  for (let i = 0; i < data.length; i += bs) {
    if (opts.signal?.aborted) throw new Error('evaluation cancelled');
    const idx = Array.from({ length: Math.min(bs, data.length - i) }, (_, j) => i + j);
    const samples = [];
    for (const k of idx) {
      try {
        samples.push({ k, s: await data.evalSample(k) });
      } catch {
        /* undecodable: the pipeline already warned */
      }
    }
    if (samples.length === 0) continue;
    const preds = await model.predict(samples.map((x) => x.s), { scoreThreshold: opts.scoreThreshold, only: opts.only });
    samples.forEach((x, j) => {
      const im = data.image(x.k);
      out.push({ datasetIndex: im.datasetIndex, key: im.key, prediction: preds[j] });
    });
  }
  return out;
}
