// The planner's inputs gathered from the world (the project's labels, the compute backend, the installed
// backbones, the costs measured on this machine), for the one planner (plan.ts). The studio's train service and
// `hst-studio train` (through trainProject) both plan here.
import type { TrainOverrides, TrainPlan } from '../../contract/api';
import { BackboneManager } from '../backbones/manager';
import { getComputeInfo } from '../compute/engine';
import type { Dataset } from '../datasets/types';
import type { FullProjectStore } from '../store/types';
import { BACKBONE_SHAPES } from '../model/config';
import { readCosts } from './cost-model';
import { loadOnnxRuntime } from '../features/onnx-vit';
import { isNativeBackend } from './fast-fine-tune';
import { planTrainingRun, type PlanBackbone, type PlanBackend } from './plan';
import { collectPlanStats } from './plan-stats';
import { classificationFromTags, labelsAreTags, tagsProblem } from './tags-classification';
import type { TaskName } from '../task-model/task-model';

/** `HST_TRAIN_PRESET=tiny` makes every Fine-tune a seconds-long run (64 px, 5 steps, shallow ViT): e2e tests, demos. */
export const TRAIN_PRESET_ENV = 'HST_TRAIN_PRESET';

/** Why a plan could not be made: the data (label more) or the missing backbone (install one). */
export class PlanError extends Error {
  constructor(
    message: string,
    readonly kind: 'data' | 'no-backbone',
  ) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * Tasks the labels support: masks/polygons → detect + instance + semantic; boxes only → detect; no shapes but
 * image tags → classify (tags-classification.ts).
 */
export function inferTasks(ds: Dataset): TaskName[] {
  if (labelsAreTags(ds)) {
    const problem = tagsProblem(classificationFromTags(ds));
    if (problem) throw new Error(problem);
    return ['classify'];
  }
  const hasMask = ds.annotations.some((a) => a.geometry.kind !== 'box');
  const hasAny = ds.annotations.length > 0;
  if (!hasAny) throw new Error('the project has no annotations to train on: label some images first (shapes, or image tags for classification)');
  return hasMask ? ['detect', 'instance', 'semantic'] : ['detect'];
}

export function noBackboneMessage(): string {
  return (
    'no pretrained backbone is installed. Install one with `hst-studio backbone download vit-tiny-16-augreg-in21k` (or ' +
    '`hst-studio backbone import FILE.safetensors`), or train on an explicitly random, untrained backbone with ' +
    '`--backbone random` (only sensible for the synthetic demo)'
  );
}

/** The backend as the planner sees it (generic: a new backend only says whether it is accelerated). */
export function currentPlanBackend(): PlanBackend {
  const name = getComputeInfo()?.backend ?? 'cpu';
  // the CPU feature cache is filled through onnxruntime-node when it loads here (HST_ONNX_VIT=0 turns it off)
  const ort = process.env.HST_ONNX_VIT !== '0' && loadOnnxRuntime() !== null;
  return { name, accelerated: isNativeBackend(name), vitRuntime: ort ? 'onnxruntime' : 'tfjs' };
}

/** The backbone a run uses: the one asked for, else the chosen default, else the first installed one. */
export async function resolvePlanBackbone(asked: string | undefined, dataDir: string): Promise<PlanBackbone> {
  if (asked === 'random') return { id: 'random', shape: BACKBONE_SHAPES['vit-tiny-16'] };
  const mgr = new BackboneManager(dataDir);
  if (asked) {
    const m = await mgr.get(asked).catch(() => null);
    if (m) return { id: m.id, shape: m.shape as PlanBackbone['shape'] };
    // a file path (the CLI takes one): its shape is read when the model is built; plan with ViT-Ti's until then
    return { id: asked, shape: BACKBONE_SHAPES['vit-tiny-16'] };
  }
  const installed = await mgr.list().catch(() => []);
  if (installed.length === 0) throw new PlanError(noBackboneMessage(), 'no-backbone');
  const def = await mgr.getDefault().catch(() => null);
  const m = installed.find((b) => b.id === def) ?? installed[0];
  return { id: m.id, shape: m.shape as PlanBackbone['shape'] };
}

export interface PlanProjectOptions {
  overrides?: TrainOverrides;
  /** keys of the images that count as labelled (default: those with annotations) */
  labelled?: ReadonlySet<string>;
  /** tasks fixed by the caller (the CLI's --tasks); default: what the labels support */
  tasks?: string[];
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  backend?: PlanBackend;
  /** false for a plain COCO folder: fast mode needs a project's feature cache */
  canCache?: boolean;
}

export async function planDataset(ds: Dataset, o: PlanProjectOptions): Promise<TrainPlan> {
  const env = o.env ?? process.env;
  const adv: TrainOverrides = { ...o.overrides, ...(o.canCache === false && !o.overrides?.mode ? { mode: 'full' as const } : {}), preset: o.overrides?.preset ?? (env[TRAIN_PRESET_ENV] === 'tiny' ? 'tiny' : 'auto') };
  let tasks: string[];
  try {
    tasks = o.tasks ?? inferTasks(ds);
  } catch (err) {
    throw new PlanError((err as Error).message, 'data');
  }
  const stats = collectPlanStats(ds, o.labelled);
  const backbone = await resolvePlanBackbone(adv.backbone, o.dataDir);
  try {
    return planTrainingRun({ stats, tasks, backend: o.backend ?? currentPlanBackend(), backbone, overrides: adv, costs: readCosts(o.dataDir) });
  } catch (err) {
    throw new PlanError((err as Error).message, 'data');
  }
}

/** The dataset with the plan's held-out val images moved to val (the rest of the labelled train/val to train). */
export function applyPlanSplit(ds: Dataset, plan: TrainPlan): Dataset {
  if (plan.val?.source !== 'holdout') return ds;
  const val = new Set(plan.val.keys);
  return { ...ds, images: ds.images.map((im) => (im.split === 'test' ? im : { ...im, split: val.has(im.key) ? 'val' : 'train' })) };
}

/**
 * Writes a plan's held-out val split into the project (shown in the gallery like any split): the drawn images
 * to val, the other labelled train/val images to train. Returns how many images changed split.
 */
export function writeHoldout(store: FullProjectStore, plan: TrainPlan): number {
  if (plan.val?.source !== 'holdout') return 0;
  const val = new Set(plan.val.keys);
  const labelled = new Set(store.toDataset().annotations.map((a) => a.imageKey));
  const toVal: number[] = [];
  const toTrain: number[] = [];
  for (const im of store.listImages().items) {
    const key = String(im.id);
    if (im.split === 'test' || !labelled.has(key)) continue;
    if (val.has(key) && im.split !== 'val') toVal.push(im.id);
    else if (!val.has(key) && im.split === 'val') toTrain.push(im.id);
  }
  if (toVal.length) store.setSplit(toVal, 'val');
  if (toTrain.length) store.setSplit(toTrain, 'train');
  return toVal.length + toTrain.length;
}
