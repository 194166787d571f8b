// The `predict` job of the training worker: runs a model version on a split of a project's images and returns
// the suggestions per image (class ids of the project, scores, geometry). The caller (the studio's main
// thread) stores them; tfjs never runs on the thread that serves HTTP/WebSocket/IPC. A model trained on tiles
// predicts each photo tile by tile and answers one merged list per photo (eval/tiled-predict.ts).
import { z } from 'zod';
import type { FromWorker } from './protocol';
import type { Geometry } from '../../contract/schemas';
import { initCompute } from '../compute/engine';
import { toBbox } from '../geometry/rle';
import type { NewPrediction } from '../store/predictions';
import { openProject } from '../store/project';
import { createDataPipeline } from '../data/pipeline';
import { predictAll, type ImagePrediction } from '../eval/predict-all';
import { predictTiled } from '../eval/tiled-predict';
import { loadTaskModel } from '../task-model/model-spec';

export const PredictJobConfig = z
  .object({
    project: z.string().min(1),
    /** the model version's weights (.safetensors beside its spec) */
    weights: z.string().min(1),
    split: z.enum(['unlabeled', 'val', 'all']),
    scoreThreshold: z.number().min(0).max(1),
    /** images per forward pass */
    batchSize: z.number().int().min(1).max(64).optional(),
    backend: z.string().optional(),
  })
  .strict();
export type PredictJobConfig = z.infer<typeof PredictJobConfig>;

export interface PredictJobResult {
  /** every image predicted (an image with no detection has an empty list) */
  images: { imageId: number; preds: NewPrediction[] }[];
  /** images the split held */
  total: number;
}

/** Predicts; a cancel stops between batches and still returns what was predicted so far. */
export async function predictProject(cfg: PredictJobConfig, ctl: { signal?: AbortSignal; progress?: (fraction: number, message: string) => void } = {}): Promise<PredictJobResult & { cancelled: boolean }> {
  const store = openProject(cfg.project);
  let dataset, classId: Map<string, number>;
  try {
    dataset = store.toDataset();
    classId = new Map(store.listClasses().map((c) => [c.name, c.id]));
  } finally {
    store.close();
  }
  const labelled = new Set(dataset.annotations.map((a) => a.imageKey));
  if (cfg.split === 'unlabeled') dataset = { ...dataset, images: dataset.images.filter((im) => !labelled.has(im.key)) };
  else if (cfg.split === 'val') dataset = { ...dataset, images: dataset.images.filter((im) => im.split === 'val' && labelled.has(im.key)) };
  const total = dataset.images.length;
  const images: PredictJobResult['images'] = [];
  if (total === 0) return { images, total, cancelled: false };
  const { model, spec } = await loadTaskModel(cfg.weights);
  const collect = (p: ImagePrediction) => {
    const preds: NewPrediction[] = [];
    for (const o of p.prediction.objects ?? []) {
      const cid = classId.get(spec.classes[o.classIndex]);
      if (cid === undefined) continue;
      const [x, y, w, h] = o.bbox;
      // an untrained mask head can give an empty mask for a real box: then the box is the suggestion
      const mb = o.rle ? toBbox(o.rle) : null;
      const geometry: Geometry = o.rle && mb && mb[2] * mb[3] > 0 ? { kind: 'mask', rle: o.rle } : { kind: 'box', x, y, w, h };
      preds.push({ classId: cid, geometry, score: Math.min(1, Math.max(0, o.score)) });
    }
    images.push({ imageId: Number(p.key), preds });
  };
  try {
    if (spec.tiles) {
      // trained on tiles: each photo is cut the same way, its tiles predicted and merged into one list
      const tiles = spec.tiles;
      try {
        await predictTiled(model, dataset, {
          tiles, size: spec.inputSize, norm: spec.norm, scoreThreshold: cfg.scoreThreshold, batchSize: cfg.batchSize ?? 2, signal: ctl.signal,
          onPhoto: (p, done, n) => {
            if (p) collect(p);
            ctl.progress?.(done / n, `${done}/${n} images (tiles of ${tiles.size} px)`);
          },
        });
      } catch (err) {
        if (ctl.signal?.aborted) return { images, total, cancelled: true };
        throw err;
      }
      return { images, total, cancelled: false };
    }
    const bs = cfg.batchSize ?? 2;
    for (let i = 0; i < total; i += bs) {
      if (ctl.signal?.aborted) return { images, total, cancelled: true };
      const part = createDataPipeline({ dataset: { ...dataset, images: dataset.images.slice(i, i + bs) }, classes: { names: spec.classes }, size: spec.inputSize, norm: spec.norm, seed: 0, onWarning: () => {} });
      let out;
      try {
        out = await predictAll(model, part, { scoreThreshold: cfg.scoreThreshold, signal: ctl.signal });
      } catch (err) {
        if (ctl.signal?.aborted) return { images, total, cancelled: true };
        throw err;
      }
      for (const p of out) collect(p);
      const done = Math.min(total, i + bs);
      ctl.progress?.(done / total, `${done}/${total} images`);
    }
    return { images, total, cancelled: false };
  } finally {
    model.dispose();
  }
}

/** Worker entry: validates the config, predicts, answers with the 'done' message. */
export async function runPredictJob(jobId: string, config: unknown, post: (m: FromWorker) => void, signal: AbortSignal): Promise<FromWorker> {
  const parsed = PredictJobConfig.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { type: 'done', jobId, status: 'error', message: `predict config: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  const { backend, ...cfg } = parsed.data;
  await initCompute(backend ? { backend } : {});
  const r = await predictProject({ ...cfg }, { signal, progress: (fraction, message) => post({ type: 'progress', jobId, fraction, message }) });
  const result: PredictJobResult = { images: r.images, total: r.total };
  return r.cancelled ? { type: 'done', jobId, status: 'cancelled', message: `cancelled after ${r.images.length}/${r.total} images`, result } : { type: 'done', jobId, status: 'ok', result };
}
