// `hst-studio train PROJECT`: fine-tune HST + task heads on a project's train split, evaluate on its val split,
// store the model version.
import { SIDE_PRESET_NAMES, type SidePresetName } from '../../contract/api';
import { initCompute } from '../../core/compute/engine';
import { parseTasks } from '../../core/task-model/task-model';
import { trainProject } from '../../core/training/train-project';
import { defaultTrainMode } from '../../core/training/fast-fine-tune';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio train PROJECT [--tasks detect,instance,semantic,classify] [--size 160] [--epochs N | --steps N]
                         [--backbone NAME|FILE|random] [--batch 4] [--lr 0.002] [--mode fast|full] [--eval-every N]
                         [--side small|lite|classification|dense] [--resume] [--backend B] [--json]

PROJECT is a studio project folder, or a folder with a COCO annotations.json and its images.
Tasks default to what the labels support (masks → detect,instance,semantic; boxes → detect).
--backbone: an installed backbone (hst-studio backbone list), a ViT .safetensors file, or 'random' for an
explicitly untrained ViT (only sensible for the synthetic demo). Without it the first installed backbone is used.
--mode fast (default on wasm/cpu): the frozen ViT runs once per image into the project's feature cache and the side
network + heads train from it (flips only, MetaT/LayerNorms not tuned); full (default on tfjs-node): the whole HST
recipe every step. --eval-every N also evaluates on the val split every N steps.
--side: the side network's widths (default small; lite is the studio's CPU plan, ~0.6× the cost per step).
--resume continues the last interrupted run from its newest checkpoint (models/checkpoints/).`;

function num(v: string | undefined, name: string, int = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${int ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

export const train: Command = {
  summary: 'fine-tune HST task heads on a project (detect, instance, semantic, classify)',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      tasks: { type: 'string' }, size: { type: 'string' }, epochs: { type: 'string' }, steps: { type: 'string' },
      backbone: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, resume: { type: 'boolean' },
      backend: { type: 'string' }, json: { type: 'boolean' }, 'checkpoint-every': { type: 'string' }, 'vit-depth': { type: 'string' },
      mode: { type: 'string' }, 'eval-every': { type: 'string' }, side: { type: 'string' }, help: { type: 'boolean' },
    });
    if (values.help || positionals.length !== 1) {
      console.log(USAGE);
      return values.help ? 0 : 2;
    }
    if (values.steps && values.epochs) throw new Error('give either --steps or --epochs, not both');
    const info = await initCompute(values.backend ? { backend: values.backend } : {});
    const depth = num(values['vit-depth'], 'vit-depth');
    if (depth !== undefined && values.backbone !== 'random') throw new Error('--vit-depth only applies to --backbone random');
    if (values.mode !== undefined && values.mode !== 'fast' && values.mode !== 'full') throw new Error(`--mode must be fast or full, got '${values.mode}'`);
    const mode = (values.mode as 'fast' | 'full' | undefined) ?? defaultTrainMode(info.backend);
    const side = values.side as SidePresetName | undefined;
    if (side !== undefined && !SIDE_PRESET_NAMES.includes(side)) throw new Error(`--side must be one of ${SIDE_PRESET_NAMES.join(', ')}, got '${values.side}'`);
    const log = (s: string) => (values.json ? process.stderr : process.stdout).write(s + '\n');
    const res = await trainProject(
      {
        project: positionals[0],
        tasks: values.tasks ? parseTasks(values.tasks) : undefined,
        size: num(values.size, 'size'),
        steps: num(values.steps, 'steps'),
        epochs: num(values.epochs, 'epochs', false),
        batchSize: num(values.batch, 'batch'),
        lr: num(values.lr, 'lr', false),
        backbone: values.backbone,
        resume: values.resume,
        checkpointEvery: num(values['checkpoint-every'], 'checkpoint-every'),
        randomVit: depth ? { depth } : undefined,
        mode,
        side,
        evalEvery: num(values['eval-every'], 'eval-every'),
      },
      {
        onEvent: (e) => {
          if (e.type === 'step' && (e.step % 10 === 0 || e.step === e.totalSteps || e.step === 1)) {
            const parts = Object.entries(e.parts).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
            log(`step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)} (${parts})  lr ${e.lr.toExponential(2)}  ${e.imagesPerSec.toFixed(2)} img/s  ETA ${Math.round(e.etaSec)} s`);
          } else if (e.type === 'warning') log(`warning: ${e.message}`);
          else if (e.type === 'phase') log(e.message);
          else if (e.type === 'start') log(`${e.resumed ? 'resuming' : 'training'} on ${e.images} images, ${e.trainableParams.toLocaleString('en')} trainable parameters, backend ${info.backend}`);
          else if (e.type === 'checkpoint') log(`checkpoint: ${e.dir}`);
          else if (e.type === 'eval' && e.step !== undefined) log(`step ${e.step}: val ${[e.metrics.bbox && `box AP50 ${e.metrics.bbox.AP50.toFixed(3)}`, e.metrics.segm && `mask AP50 ${e.metrics.segm.AP50.toFixed(3)}`, e.metrics.semantic?.mIoU != null && `mIoU ${e.metrics.semantic.mIoU.toFixed(3)}`].filter(Boolean).join(', ')}`);
        },
      },
    );
    if (values.json) console.log(JSON.stringify(res, null, 1));
    else {
      const m = res.metrics;
      const parts = [m?.bbox && `box AP50 ${m.bbox.AP50.toFixed(3)}`, m?.segm && `mask AP50 ${m.segm.AP50.toFixed(3)}`, m?.semantic?.mIoU != null && `mIoU ${m.semantic.mIoU.toFixed(3)}`, m?.classify?.accuracy != null && `accuracy ${m.classify.accuracy.toFixed(3)}`].filter(Boolean);
      log(`${res.status === 'done' ? 'trained' : 'cancelled'}: ${res.steps} steps in ${res.seconds.toFixed(0)} s on ${res.backbone}` + (parts.length ? `; val: ${parts.join(', ')}` : ''));
      if (res.modelVersion !== null) log(`model version ${res.modelVersion} saved in ${res.modelDir}`);
      else if (res.modelDir) log(`model saved in ${res.modelDir}`);
    }
    return 0;
  },
};
