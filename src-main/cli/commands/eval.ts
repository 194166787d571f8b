// `hst-studio eval PROJECT`: evaluate the project's active (else newest) trained model on its val split.
import { initCompute } from '../../core/compute/engine';
import { formatCocoSummary } from '../../core/eval';
import { createDataPipeline } from '../../core/data';
import { evaluateModel } from '../../core/eval/evaluate-model';
import { loadTaskModel } from '../../core/task-model/model-spec';
import { findModel, openSource } from '../../core/training/train-project';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio eval PROJECT [--model FILE.safetensors] [--json] [--backend B]

Prints COCO box/mask AP (pycocotools definitions) and semantic mIoU on the val split.`;

export const evalCommand: Command = {
  summary: 'evaluate the trained model on the val split (COCO AP, mIoU)',
  async run(argv) {
    const { values, positionals } = parse(argv, { model: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' }, help: { type: 'boolean' } });
    if (values.help || positionals.length !== 1) {
      console.log(USAGE);
      return values.help ? 0 : 2;
    }
    await initCompute(values.backend ? { backend: values.backend } : {});
    const src = await openSource(positionals[0]);
    try {
      const file = values.model ?? (await findModel(src));
      const { model, spec } = await loadTaskModel(file);
      try {
        const val = createDataPipeline({ dataset: src.dataset, classes: { names: spec.classes }, size: spec.inputSize, norm: spec.norm, seed: 0, split: 'val', onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
        if (val.length === 0) throw new Error(`${positionals[0]}: the val split is empty; put some labelled images in val`);
        // a model trained on tiles is scored on its merged whole-photo predictions against the photos' own labels
        const out = await evaluateModel(model, src.dataset, val, spec.classes, { keepPredictions: false, tiled: spec, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
        if (values.json) {
          console.log(JSON.stringify({ model: file, backbone: spec.backbone, classes: spec.classes, tiles: spec.tiles ?? null, ...out.metrics }, null, 1));
          return 0;
        }
        const tiling = spec.tiles ? `, predicted on tiles of ${spec.tiles.size} px (overlap ${spec.tiles.overlap}) merged per photo` : '';
        console.log(`model ${file} (${spec.backbone.kind === 'random' ? 'random (untrained) backbone' : spec.backbone.kind}), ${out.metrics.images} val images${tiling}`);
        if (out.instances) {
          console.log('\nbox (iouType=bbox)\n' + formatCocoSummary(out.instances.bbox));
          if (out.instances.segm) console.log('\nmask (iouType=segm)\n' + formatCocoSummary(out.instances.segm));
        }
        if (out.semantic) {
          console.log(`\nsemantic: mIoU ${out.semantic.mIoU?.toFixed(4) ?? 'n/a'}, pixel accuracy ${out.semantic.pixelAccuracy?.toFixed(4) ?? 'n/a'}`);
          const names = ['background', ...spec.classes];
          out.semantic.perClassIoU.forEach((v, k) => console.log(`  ${names[k].padEnd(16)} IoU ${v === null ? 'n/a' : v.toFixed(4)}`));
        }
        if (out.metrics.classify) console.log(`\nclassification accuracy ${out.metrics.classify.accuracy?.toFixed(4) ?? 'n/a'}`);
      } finally {
        model.dispose();
      }
    } finally {
      src.close();
    }
    return 0;
  },
};
