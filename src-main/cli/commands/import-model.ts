// `hst-studio import-model PROJECT FILE.safetensors`: a task model trained elsewhere (the PyTorch trainer) becomes
// a model version, evaluated on the project's val split.
import { initCompute } from '../../core/compute/engine';
import { importTrainedModel } from '../../core/export/import-trained';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio import-model PROJECT FILE.safetensors [--no-activate] [--json]

FILE is what \`torchrun -m hst_trainer.train --out FILE\` wrote from an \`hst-studio export-training\` bundle. Its
tensor names, shapes, classes and frozen backbone are checked; it is stored as a model version (active unless
--no-activate), evaluated on the val split, and its origin is recorded.`;

export const importModelCommand: Command = {
  summary: 'import a task model trained by the PyTorch trainer as a model version (and evaluate it)',
  async run(argv) {
    const { values, positionals } = parse(argv, { 'no-activate': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new Error(`expected PROJECT and FILE.\n${USAGE}`);
    await initCompute({});
    const log = (s: string) => (values.json ? process.stderr : process.stdout).write(s + '\n');
    const r = await importTrainedModel(positionals[0], positionals[1], { activate: !values['no-activate'], onPhase: log });
    if (values.json) console.log(JSON.stringify(r, null, 1));
    else {
      const m = r.metrics;
      const parts = [m?.bbox && `box AP50 ${m.bbox.AP50.toFixed(3)}`, m?.segm && `mask AP50 ${m.segm.AP50.toFixed(3)}`, m?.semantic?.mIoU != null && `mIoU ${m.semantic.mIoU.toFixed(3)}`, m?.classify?.accuracy != null && `accuracy ${m.classify.accuracy.toFixed(3)}`].filter(Boolean);
      log(`imported ${r.origin.file} (${r.origin.trainer}) as model version ${r.modelVersion}${parts.length ? `; val: ${parts.join(', ')}` : '; no val images, not evaluated'}`);
    }
    return 0;
  },
};
