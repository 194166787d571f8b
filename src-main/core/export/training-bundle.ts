// A training bundle: everything the PyTorch trainer (trainers/pytorch, `torchrun -m hst_trainer.train`) needs to
// train a project's task model away from the studio, as plain files:
//   spec.json            the task model's spec (HST config, heads, classes, input size, normalisation, side
//                        preset, backbone id + file sha256 + hash of its frozen tensors)
//   train.json           the studio's full-mode recipe (steps, batch, lr, AdamW, warm-up+cosine, clipping, EMA, augmentation)
//   weights.safetensors  the start: the active (or given) model version, else the pretrained backbone with freshly
//                        initialised side network and heads; studio/official names, PyTorch layouts
//   dataset/{train,val,test}.json + dataset/images/   COCO per split (labelled images only, as the studio trains)
//   hst_trainer/, requirements.txt                    the trainer's sources, so the bundle runs as it is
//   README.md            the exact torchrun command, run from the bundle folder
// What comes back is one .safetensors file (import-trained.ts).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDataset } from '../datasets/write-dataset';
import type { Dataset } from '../datasets/types';
import { serializeSafetensors, type StTensor } from '../io/safetensors';
import { SIDE_PRESETS, type SidePreset, type HstConfigInput } from '../model/config';
import { isTrainableName } from '../model/trainable';
import { configToJson } from '../model/weights';
import { openProject } from '../store/project';
import { VIT_AUGREG_NORM } from '../data/types';
import { buildTaskModel, type TaskModelSpec } from '../task-model/model-spec';
import { defaultHeadSettings, type TaskModel, type TaskName } from '../task-model/task-model';
import { buildHst, labelledOnly } from '../task-model/start';
import { AtomicOutput, type ExportIo } from './atomic-output';
import { loadVersionForExport } from './export-source';

export interface TrainingBundleOptions {
  /** model version to start from (default: the active version; none → the backbone) */
  version?: number;
  /** start from a backbone even when the project has a model version: installed id, .safetensors file or 'random' */
  backbone?: string;
  /** where backbones are installed */
  dataDir?: string;
  size?: number;
  side?: SidePreset;
  tasks?: TaskName[];
  /** ViT depth of an explicitly random backbone (tests) */
  vitDepth?: number;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

/** The spec written to spec.json: the studio's task-model spec plus what the bundle adds. */
export interface BundleSpec extends TaskModelSpec {
  sidePreset: string | null;
  backboneId: string;
  backboneSha256: string | null;
  /** sha256 over the frozen ViT tensors (names, shapes, float32 bytes): the import checks the result against it */
  backboneHash: string;
  startedFrom: { kind: 'version'; id: number; name: string } | { kind: 'backbone'; id: string };
}

export interface TrainingRecipe {
  steps: number;
  /** images per process and step (the trainer's --batch default) */
  batchSize: number;
  lr: number;
  weightDecay: number;
  beta2: number;
  warmupSteps: number;
  minLr: number;
  clipNorm: number;
  emaDecay: number;
  seed: number;
  checkpointEvery: number;
  augment: { hflip: number; scaleJitter: [number, number]; colorJitter: number };
}

export interface TrainingBundleResult {
  out: string;
  images: Record<string, number>;
  spec: BundleSpec;
  recipe: TrainingRecipe;
  command: string;
  /** false when the trainer's Python sources were not found next to this installation (README says how to get them) */
  trainerIncluded: boolean;
}

/** Names of the frozen backbone tensors of a task model (what no training may change). */
export function frozenBackboneNames(model: TaskModel): string[] {
  return [...model.hst.store.entries.values()].filter((e) => e.backbone && !isTrainableName(e.name)).map((e) => e.name).sort();
}

/** sha256 over the given tensors: name, dtype, shape and raw bytes, in sorted name order. */
export function frozenTensorHash(tensors: Map<string, StTensor>, names: readonly string[], source = 'weights'): string {
  const h = createHash('sha256');
  for (const n of [...names].sort()) {
    const t = tensors.get(n);
    if (!t) throw new Error(`${source}: missing backbone tensor '${n}'`);
    h.update(`${n}|${t.dtype}|${t.shape.join(',')}\n`);
    h.update(t.data);
  }
  return h.digest('hex');
}

/** The repository's trainers/pytorch folder, found upwards from this module (source tree or dist/). */
export function findTrainerSources(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'trainers', 'pytorch');
    if (existsSync(join(p, 'hst_trainer', '__init__.py'))) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/**
 * `--redirects 1 --tee 1`: torch 1.13's torchrun (Debian bookworm's python3-torch) fails on Python 3.11 with its
 * default "0" for both ('NoneType' object has no attribute 'get': Python 3.11 no longer iterates the zero flag
 * member); 1 writes the workers' stdout to torchrun's log folder and to the console, and works on every version.
 */
export const TORCHRUN_COMMAND = 'torchrun --redirects 1 --tee 1 --nproc_per_node 1 -m hst_trainer.train --steps STEPS --out trained.safetensors';

export async function exportTrainingBundle(projectDir: string, out: string, opts: TrainingBundleOptions = {}, io: ExportIo = {}): Promise<TrainingBundleResult> {
  const dir = resolve(projectDir);
  const store = openProject(dir);
  let ds: Dataset;
  let classes: string[];
  let versions;
  try {
    ds = labelledOnly(store.toDataset(), store);
    classes = ds.classes.map((c) => c.name);
    versions = store.listModelVersions().filter((v) => v.files.some((f) => f.endsWith('.safetensors')));
  } finally {
    store.close();
  }
  if (classes.length === 0) throw new Error(`${projectDir}: the project has no classes`);
  const train = ds.images.filter((i) => (i.split ?? 'train') === 'train').length;
  if (train === 0) throw new Error(`${projectDir}: no labelled image is in the train split; mark some images as train first`);

  // the start: a model version (given, or the active one) unless a backbone is asked for
  let model: TaskModel;
  let spec: TaskModelSpec;
  let startedFrom: BundleSpec['startedFrom'];
  let backboneId: string;
  let backboneSha256: string | null = null;
  let sidePreset: string | null = opts.side ?? null;
  const useVersion = opts.version !== undefined || (!opts.backbone && versions.some((v) => v.active));
  if (useVersion) {
    const src = await loadVersionForExport(dir, opts.version);
    model = src.model;
    spec = src.spec;
    startedFrom = { kind: 'version', id: src.version!.id, name: src.version!.name };
    backboneId = spec.backbone.kind === 'pretrained' ? spec.backbone.name : spec.backbone.kind === 'random' ? 'random' : 'checkpoint';
    backboneSha256 = src.backboneSha256 ?? null;
    if (JSON.stringify(spec.classes) !== JSON.stringify(classes)) {
      model.dispose();
      throw new Error(`model version ${src.version!.id} was trained on the classes [${spec.classes.join(', ')}], the project now has [${classes.join(', ')}]; start from the backbone instead (--backbone)`);
    }
    if (!sidePreset) sidePreset = Object.entries(SIDE_PRESETS).find(([, p]) => JSON.stringify(p.m_embed_dims) === JSON.stringify(spec.hst.m_embed_dims))?.[0] ?? null;
  } else {
    // no (active) version: the backbone; buildHst picks the first installed one, or explains how to get one
    const size = opts.size ?? 160;
    if (!(Number.isInteger(size) && size >= 64 && size % 32 === 0)) throw new Error(`--size must be a multiple of 32 of at least 64, got ${size}`);
    const side = opts.side ?? 'small';
    sidePreset = side;
    const seed = opts.seed ?? 0;
    const { hst, label } = await buildHst({ backbone: opts.backbone, dataDir: opts.dataDir, randomVit: opts.vitDepth ? { depth: opts.vitDepth } : undefined }, size, side, seed);
    const tasks = opts.tasks ?? shapeTasks(ds);
    spec = {
      format: 'hst-studio-task-model', version: 1, hst: configToJson(hst.config) as HstConfigInput,
      heads: defaultHeadSettings(tasks, classes.length), classes, inputSize: size, norm: VIT_AUGREG_NORM, backbone: hst.backboneSource, seed,
    };
    model = buildTaskModel(spec, hst);
    startedFrom = { kind: 'backbone', id: label };
    backboneId = label;
    backboneSha256 = hst.backboneSource.kind === 'pretrained' ? (hst.backboneSource.sha256 ?? null) : null;
  }

  try {
    const tensors = model.exportTensors();
    const full: BundleSpec = {
      ...spec,
      hst: configToJson(model.hst.config) as HstConfigInput,
      backbone: model.hst.backboneSource.kind === 'pending' ? spec.backbone : spec.backbone,
      sidePreset,
      backboneId,
      backboneSha256,
      backboneHash: frozenTensorHash(tensors, frozenBackboneNames(model)),
      startedFrom,
    };
    const batchSize = opts.batchSize ?? 4;
    const steps = opts.steps ?? Math.max(1, Math.ceil((20 * train) / batchSize));
    const lr = opts.lr ?? 2e-3;
    const recipe: TrainingRecipe = {
      steps, batchSize, lr, weightDecay: 0.05, beta2: 0.999, warmupSteps: Math.min(50, Math.floor(steps / 10)), minLr: lr / 100,
      clipNorm: 1, emaDecay: 0.999, seed: full.seed, checkpointEvery: 50, augment: { hflip: 0.5, scaleJitter: [0.8, 1.2], colorJitter: 0.1 },
    };
    const trainer = findTrainerSources();
    const command = TORCHRUN_COMMAND.replace('STEPS', String(steps));
    const images: Record<string, number> = {};
    await AtomicOutput.run(out, 'dir', io, async (o) => {
      o.progress(0.05, 'weights');
      await o.write('spec.json', JSON.stringify(full, null, 1));
      await o.write('train.json', JSON.stringify(recipe, null, 1));
      await o.write('weights.safetensors', serializeSafetensors(tensors, { format: 'pt', layout: 'PyTorch state_dict: Linear (out,in), Conv (out,in,kh,kw)', task_model: JSON.stringify(full) }));
      o.progress(0.2, 'dataset');
      await mkdir(o.path('dataset'), { recursive: true });
      for (const split of ['train', 'val', 'test'] as const) {
        const n = ds.images.filter((i) => (i.split ?? 'train') === split).length;
        if (n === 0 && split === 'test') continue;
        o.checkCancel();
        await writeDataset('coco', ds, o.path(join('dataset', `${split}.json`)), { splits: [split], images: 'copy' });
        images[split] = n;
      }
      o.progress(0.9, 'trainer');
      if (trainer) {
        await copyTree(join(trainer, 'hst_trainer'), o.path('hst_trainer'));
        await copyFile(join(trainer, 'requirements.txt'), o.path('requirements.txt'));
      }
      await o.write('README.md', bundleReadme(full, recipe, images, command, !!trainer));
    });
    return { out, images, spec: full, recipe, command, trainerIncluded: !!trainer };
  } finally {
    model.dispose();
  }
}

/** The tasks the shapes support (training/train-project.ts inferTasks for shape labels; tag-only classification projects are not bundled yet). */
function shapeTasks(ds: Dataset): TaskName[] {
  if (ds.annotations.length === 0) throw new Error('the project has no shape annotations to train on (image-tag classification cannot be bundled for the PyTorch trainer yet); label some images first');
  return ds.annotations.some((a) => a.geometry.kind !== 'box') ? ['detect', 'instance', 'semantic'] : ['detect'];
}

async function copyTree(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const e of await readdir(src, { withFileTypes: true })) {
    if (e.name === '__pycache__' || e.name.endsWith('.pyc')) continue;
    const s = join(src, e.name);
    if (e.isDirectory()) await copyTree(s, join(dst, e.name));
    else if (statSync(s).isFile()) await copyFile(s, join(dst, e.name));
  }
}

function bundleReadme(spec: BundleSpec, r: TrainingRecipe, images: Record<string, number>, command: string, trainer: boolean): string {
  const split = Object.entries(images).map(([k, n]) => `${n} ${k}`).join(', ');
  return `# HST Studio training bundle

Task model: ${spec.heads.tasks.join(' + ')} · ${spec.classes.length} classes (${spec.classes.join(', ')}) · input ${spec.inputSize} px ·
side network ${spec.sidePreset ?? JSON.stringify(spec.hst.m_embed_dims)} · backbone ${spec.backboneId}${spec.backboneSha256 ? ` (sha256 ${spec.backboneSha256.slice(0, 12)}…)` : ''} ·
start: ${spec.startedFrom.kind === 'version' ? `model version ${spec.startedFrom.id} (${spec.startedFrom.name})` : `backbone ${spec.startedFrom.id} with new side network and heads`}.
Images: ${split}.

## Train

From this folder (Python 3 with torch, numpy and pillow: \`pip install -r requirements.txt\`, or Debian's
python3-torch python3-numpy python3-pil):

    ${command}

- \`--redirects 1 --tee 1\` work around a torchrun bug of torch 1.13 on Python 3.11; newer torch does not need them.
- \`--nproc_per_node N\`: N processes (DDP); gloo on CPU, NCCL on CUDA GPUs (one process per GPU). \`--batch B\` is
  per process (default ${r.batchSize}), so the global batch is N·B; N processes × B train exactly like one process × N·B.
- \`--steps N\` (default ${r.steps}), \`--out FILE.safetensors\` (default trained.safetensors), \`--lr\` (default ${r.lr}).
- Checkpoints go to \`checkpoints/\` every ${r.checkpointEvery} steps; \`--resume\` continues the newest one exactly.
- The per-step loss parts (same names as the studio: det_cls, det_box, det_ctr, mask_dice, sem_ce, cls_ce) are
  printed and written to \`train-log.jsonl\`.
${trainer ? '' : '\nThe trainer sources (hst_trainer/) were not found next to this studio installation: copy `trainers/pytorch/hst_trainer`\nand `requirements.txt` from the HST Studio repository into this folder.\n'}
## Bring it back

    hst-studio import-model PROJECT trained.safetensors

(or drop the file on the studio's Models screen). The studio checks the names, shapes and the backbone
(hash ${spec.backboneHash.slice(0, 16)}…), stores it as a model version and evaluates it on the project's val split.

## Files

- \`spec.json\`: the task model (HST config with the authors' keys, heads, classes, input size, normalisation, backbone)
- \`train.json\`: the studio's recipe (AdamW wd ${r.weightDecay}, β2 ${r.beta2}, warm-up ${r.warmupSteps} steps from lr/100 then cosine to ${r.minLr}, clip ${r.clipNorm}, weight EMA ${r.emaDecay}, augmentation ${JSON.stringify(r.augment)})
- \`weights.safetensors\`: the start weights, official PyTorch names and layouts
- \`dataset/<split>.json\` + \`dataset/images/\`: COCO, one file per split
`;
}
