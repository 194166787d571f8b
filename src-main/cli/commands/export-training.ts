// `hst-studio export-training PROJECT OUT [--version V]`: a training bundle for the PyTorch trainer (torchrun).
import { SIDE_PRESET_NAMES, type SidePresetName } from '../../contract/api';
import { initCompute } from '../../core/compute/engine';
import { exportTrainingBundle } from '../../core/export/training-bundle';
import { parseTasks } from '../../core/task-model/task-model';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio export-training PROJECT OUT [--version V] [--backbone NAME|FILE|random] [--size 160]
                                   [--side small|lite|classification|dense] [--tasks detect,...] [--steps N] [--batch 4] [--lr 0.002]

Writes OUT/ (a new folder): the project's labelled images as COCO per split, the task model's spec, its start
weights (the active model version, or --version V; without one, the backbone with new side network and heads)
and a README with the torchrun command to run from OUT. Bring the result back with
\`hst-studio import-model PROJECT trained.safetensors\`.
--backbone/--size/--side/--tasks only apply when starting from a backbone; --steps/--batch/--lr are the bundle's defaults.`;

function num(v: string | undefined, name: string, int = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${int ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

export const exportTrainingCommand: Command = {
  summary: 'write a training bundle for the PyTorch trainer (torchrun, DDP on CPUs or GPUs)',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      version: { type: 'string' }, backbone: { type: 'string' }, size: { type: 'string' }, side: { type: 'string' }, tasks: { type: 'string' },
      steps: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, 'vit-depth': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new Error(`expected PROJECT and OUT.\n${USAGE}`);
    const side = values.side as SidePresetName | undefined;
    if (side !== undefined && !SIDE_PRESET_NAMES.includes(side)) throw new Error(`--side must be one of ${SIDE_PRESET_NAMES.join(', ')}, got '${values.side}'`);
    const depth = num(values['vit-depth'], 'vit-depth');
    if (depth !== undefined && values.backbone !== 'random') throw new Error('--vit-depth only applies to --backbone random');
    await initCompute({});
    const [project, out] = positionals;
    const r = await exportTrainingBundle(project, out, {
      version: num(values.version, 'version'), backbone: values.backbone, size: num(values.size, 'size'), side,
      tasks: values.tasks ? parseTasks(values.tasks) : undefined, steps: num(values.steps, 'steps'), batchSize: num(values.batch, 'batch'),
      lr: num(values.lr, 'lr', false), vitDepth: depth,
    });
    if (values.json) console.log(JSON.stringify({ out: r.out, images: r.images, command: r.command, spec: r.spec, recipe: r.recipe, trainerIncluded: r.trainerIncluded }, null, 1));
    else {
      const s = r.spec;
      console.log(`training bundle written to ${r.out}: ${Object.entries(r.images).map(([k, n]) => `${n} ${k}`).join(', ')} images; ${s.heads.tasks.join('+')}, ${s.classes.length} classes, ${s.inputSize} px, backbone ${s.backboneId}`);
      console.log(`start: ${s.startedFrom.kind === 'version' ? `model version ${s.startedFrom.id}` : `backbone ${s.startedFrom.id}`}`);
      if (!r.trainerIncluded) console.log('warning: the trainer sources (trainers/pytorch/hst_trainer) were not found; the README says where to get them');
      console.log(`train it (from ${r.out}):\n  ${r.command}`);
      console.log(`then: hst-studio import-model ${project} ${r.out}/trained.safetensors`);
    }
    return 0;
  },
};
