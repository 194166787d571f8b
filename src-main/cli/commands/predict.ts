// `hst-studio predict PROJECT`: run the trained model and write COCO results (image_id, category_id, bbox,
// score, segmentation as compressed RLE).
import { writeFile } from 'node:fs/promises';
import type { Split } from '../../contract/schemas';
import { initCompute } from '../../core/compute/engine';
import { createDataPipeline } from '../../core/data';
import { predictPipeline } from '../../core/eval/tiled-predict';
import { loadTaskModel } from '../../core/task-model/model-spec';
import { findModel, openSource } from '../../core/training/train-project';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio predict PROJECT [--split val|unlabeled|all] [--out results.json] [--model FILE] [--score 0.05] [--backend B]

Writes COCO results: [{image_id, category_id, bbox: [x,y,w,h], score, segmentation?: {size, counts}}].
image_id / category_id are the project's image and class ids (a COCO folder: the file's own ids).`;

export const predict: Command = {
  summary: 'predict with the trained model and write COCO results JSON',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      split: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' }, score: { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean' },
    });
    if (values.help || positionals.length !== 1) {
      console.log(USAGE);
      return values.help ? 0 : 2;
    }
    const which = values.split ?? 'val';
    if (!['val', 'unlabeled', 'all', 'train', 'test'].includes(which)) throw new Error(`--split must be val, unlabeled or all, got '${which}'`);
    const score = values.score === undefined ? 0.05 : Number(values.score);
    if (!(score >= 0 && score < 1)) throw new Error(`--score must be in [0, 1), got '${values.score}'`);
    await initCompute(values.backend ? { backend: values.backend } : {});
    const src = await openSource(positionals[0]);
    try {
      const file = values.model ?? (await findModel(src));
      const { model, spec } = await loadTaskModel(file);
      try {
        let dataset = src.dataset;
        if (which === 'unlabeled') {
          const labelled = new Set(dataset.annotations.map((a) => a.imageKey));
          dataset = { ...dataset, images: dataset.images.filter((im) => !labelled.has(im.key)) };
        }
        const split = which === 'all' || which === 'unlabeled' ? undefined : (which as Split);
        const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
        const data = createDataPipeline({ dataset, classes: { names: spec.classes }, size: spec.inputSize, norm: spec.norm, seed: 0, split, onWarning: warn });
        // a model trained on tiles predicts each photo tile by tile; the results are merged in the photo's pixels
        if (spec.tiles) console.log(`the model was trained on tiles of ${spec.tiles.size} px (overlap ${spec.tiles.overlap}): predicting each photo tile by tile`);
        const preds = await predictPipeline(model, dataset, data, { scoreThreshold: score, tiled: spec, onWarning: warn });
        const classId = new Map(src.dataset.classes.map((c, i) => [c.name, c.sourceId ?? i + 1]));
        if (src.store) for (const c of src.store.listClasses()) classId.set(c.name, c.id);
        const results: object[] = [];
        for (const p of preds) {
          const key = p.key;
          const imageId = Number.isFinite(Number(key)) ? Number(key) : key;
          for (const o of p.prediction.objects ?? []) {
            const r: Record<string, unknown> = {
              image_id: imageId,
              category_id: classId.get(spec.classes[o.classIndex]) ?? o.classIndex + 1,
              bbox: o.bbox.map((v) => Math.round(v * 100) / 100),
              score: Math.round(o.score * 1e5) / 1e5,
            };
            if (o.rle) r.segmentation = o.rle;
            results.push(r);
          }
        }
        const out = values.out ?? 'results.json';
        await writeFile(out, JSON.stringify(results));
        console.log(`wrote ${results.length} detections on ${preds.length} images to ${out}`);
      } finally {
        model.dispose();
      }
    } finally {
      src.close();
    }
    return 0;
  },
};
