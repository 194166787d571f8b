// HST + task heads as one trainable unit: the thing a model version stores and the trainer optimises.
//
//   lossFor(batch, targets, training)  → named loss parts + total (call inside tf.variableGrads)
//   predict(inputs)                    → per-image predictions in ORIGINAL image pixels (boxes xywh, masks
//                                        as COCO RLE, semantic maps, class probabilities)
//   exportTensors()/importTensors()    → one flat PyTorch-layout state: the HST's official names plus the heads'
//                                        `heads.*` (and `head.*`/`fc_norm.*` for classification)
import { tf } from '../compute/engine';
import type { Rle } from '../../contract/schemas';
import { encodeMask } from '../geometry/rle';
import { MultiTaskHeads, type ImageTargets, type LossResult, type MultiTaskOptions, type PreparedTargets, type TaskName } from '../heads/multi-task';
import { fromTorchLayout, toTorchLayout } from '../heads/layers/params';
import { f32Tensor, toFloat32, type StTensor } from '../io/safetensors';
import type { HstModel } from '../model/hst';
import { exportState, loadState } from '../model/weights';
import { boxToOriginal, maskToOriginal } from '../data/letterbox';
import type { Sample, SampleTransform } from '../data/types';
import type { OptimParam } from './optim-param';

export type { TaskName } from '../heads/multi-task';
export const ALL_TASKS: readonly TaskName[] = ['detect', 'instance', 'semantic', 'classify'];

/** Head settings saved with a model version (everything needed to rebuild the heads). */
export interface HeadSettings {
  tasks: TaskName[];
  numClasses: number;
  fpnWidth: number;
  detStrides: (4 | 8 | 16 | 32)[];
  towerDepth: number;
  maskStride: 4 | 8;
  maskBranchDepth: number;
  semanticStrides: (4 | 8 | 16 | 32)[];
  lossWeights?: Partial<Record<string, number>>;
}

/** The CPU default: light heads that still have every part of the spec's design. */
export function defaultHeadSettings(tasks: readonly TaskName[], numClasses: number, over: Partial<HeadSettings> = {}): HeadSettings {
  return {
    tasks: [...tasks],
    numClasses,
    fpnWidth: 64,
    detStrides: [8, 16, 32],
    towerDepth: 2,
    maskStride: 8,
    maskBranchDepth: 2,
    semanticStrides: [4, 8, 16, 32],
    ...over,
  };
}

export function parseTasks(s: string): TaskName[] {
  const list = s.split(',').map((t) => t.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('--tasks: give at least one of detect, instance, semantic, classify');
  for (const t of list) if (!ALL_TASKS.includes(t as TaskName)) throw new Error(`--tasks: unknown task '${t}' (known: ${ALL_TASKS.join(', ')})`);
  return [...new Set(list)] as TaskName[];
}

/** One predicted object in original image pixels. */
export interface PredictedObject {
  classIndex: number;
  score: number;
  /** [x, y, w, h] in original pixels */
  bbox: [number, number, number, number];
  /** instance mask at the original resolution (instance task) */
  rle?: Rle;
}

export interface TaskPrediction {
  objects?: PredictedObject[];
  /** origH·origW class map (0 = background, k+1 = class k) */
  semantic?: Uint8Array;
  classProbs?: Float32Array;
  transform: SampleTransform;
}

export interface PredictInput {
  image: Float32Array;
  height: number;
  width: number;
  transform: SampleTransform;
}

export interface PredictSettings {
  scoreThreshold?: number;
  maxDetections?: number;
  /** compute only these tasks' outputs (e.g. ['detect']: boxes without instance masks) */
  only?: readonly TaskName[];
}

export class TaskModel {
  readonly heads: MultiTaskHeads;
  readonly settings: HeadSettings;

  constructor(
    readonly hst: HstModel,
    settings: HeadSettings,
    seed = 0,
  ) {
    if (hst.head) throw new Error('TaskModel: build the HST with num_classes 0; classification is one of the task heads');
    this.settings = settings;
    const opts: MultiTaskOptions = {
      stageChannels: hst.config.m_embed_dims,
      numClasses: settings.numClasses,
      tasks: settings.tasks,
      fpnWidth: settings.fpnWidth,
      detStrides: settings.detStrides,
      towerDepth: settings.towerDepth,
      maskStride: settings.maskStride,
      maskBranchDepth: settings.maskBranchDepth,
      semanticStrides: settings.semanticStrides,
      lossWeights: settings.lossWeights,
      seed,
    };
    this.heads = new MultiTaskHeads(opts);
  }

  get tasks(): Set<TaskName> {
    return this.heads.tasks;
  }

  /** What the optimizer updates: the HST's trainable set (spec's freeze rule) and every head weight. */
  optimParams(): OptimParam[] {
    const out: OptimParam[] = [];
    for (const e of this.hst.store.entries.values()) if (!e.buffer && e.variable.trainable) out.push({ name: e.name, variable: e.variable });
    for (const p of this.heads.params()) if (!p.buffer) out.push({ name: p.name, variable: p.variable });
    return out;
  }

  /** The buffers a training forward updates in place (BatchNorm running statistics), in a fixed order. */
  buffers(): { name: string; variable: tf.Variable }[] {
    const out: { name: string; variable: tf.Variable }[] = [];
    for (const e of this.hst.store.entries.values()) if (e.buffer) out.push({ name: e.name, variable: e.variable });
    for (const p of this.heads.params()) if (p.buffer) out.push({ name: p.name, variable: p.variable });
    return out;
  }

  trainableParamCount(): number {
    return this.optimParams().reduce((a, p) => a + p.variable.size, 0);
  }

  prepareTargets(samples: readonly Sample[]): PreparedTargets {
    if (samples.length === 0) throw new Error('TaskModel: empty batch');
    const H = samples[0].height;
    const W = samples[0].width;
    const images: ImageTargets[] = samples.map((s) => ({
      boxes: s.targets.boxes,
      labels: s.targets.labels,
      masks: s.targets.masks,
      semantic: s.targets.semantic ?? undefined,
      classLabel: s.targets.imageClass,
    }));
    return this.heads.prepareTargets(images, [H, W]);
  }

  static batchTensor(inputs: readonly { image: Float32Array; height: number; width: number }[]): tf.Tensor4D {
    const H = inputs[0].height;
    const W = inputs[0].width;
    const buf = new Float32Array(inputs.length * H * W * 3);
    inputs.forEach((s, i) => {
      if (s.height !== H || s.width !== W) throw new Error(`TaskModel: batch mixes input sizes ${H}×${W} and ${s.height}×${s.width}`);
      buf.set(s.image, i * H * W * 3);
    });
    return tf.tensor4d(buf, [inputs.length, H, W, 3]);
  }

  /** Loss for a batch; call inside tf.variableGrads / tf.tidy. */
  lossFor(x: tf.Tensor4D, targets: PreparedTargets, training = true): LossResult {
    const out = this.hst.forward(x, { training });
    return this.heads.loss(out.stages, targets);
  }

  async predict(inputs: readonly PredictInput[], opts: PredictSettings = {}): Promise<TaskPrediction[]> {
    if (inputs.length === 0) return [];
    const H = inputs[0].height;
    const W = inputs[0].width;
    const x = TaskModel.batchTensor(inputs);
    const stages = tf.tidy(() => this.hst.forward(x, { training: false }).stages);
    x.dispose();
    let raw;
    try {
      raw = await this.heads.predict(stages, { imageSize: [H, W], scoreThreshold: opts.scoreThreshold ?? 0.05, maxDetections: opts.maxDetections ?? 100, only: opts.only });
    } finally {
      tf.dispose(stages);
    }
    return raw.map((r, i) => {
      const t = inputs[i].transform;
      const p: TaskPrediction = { transform: t };
      if (r.detections) {
        const d = r.detections;
        const objects: PredictedObject[] = [];
        for (let k = 0; k < d.scores.length; k++) {
          const [x1, y1, x2, y2] = boxToOriginal(d.boxes.subarray(4 * k, 4 * k + 4), t);
          if (!(x2 > x1 && y2 > y1)) continue; // the box lies entirely on the letterbox padding
          const o: PredictedObject = { classIndex: d.labels[k], score: d.scores[k], bbox: [x1, y1, x2 - x1, y2 - y1] };
          const m = r.masks?.[k];
          if (m) o.rle = encodeMask(maskToOriginal(m, H, W, t), t.origH, t.origW);
          objects.push(o);
        }
        p.objects = objects;
      }
      if (r.semantic) p.semantic = semanticToOriginal(r.semantic, H, W, t);
      if (r.classProbs) p.classProbs = r.classProbs;
      return p;
    });
  }

  /** The whole state (model, heads, buffers) in PyTorch names and layouts. */
  exportTensors(): Map<string, StTensor> {
    const out = exportState(this.hst);
    for (const p of this.heads.params()) {
      const t = toTorchLayout(p);
      out.set(p.name, f32Tensor(Float32Array.from(t.dataSync() as Float32Array), p.torchShape));
      t.dispose();
    }
    return out;
  }

  /** Loads a state written by exportTensors; checks every name and shape before assigning anything. */
  importTensors(tensors: Map<string, StTensor>, source = 'checkpoint'): void {
    const hstPart = new Map<string, StTensor>();
    const headNames = new Set(this.heads.params().map((p) => p.name));
    for (const [k, v] of tensors) if (!headNames.has(k)) hstPart.set(k, v);
    const values = new Map<string, Float32Array>();
    for (const p of this.heads.params()) {
      const t = tensors.get(p.name);
      if (!t) throw new Error(`${source}: missing head tensor '${p.name}' (were the tasks or head settings changed?)`);
      if (t.shape.join(',') !== p.torchShape.join(',')) throw new Error(`${source}: tensor '${p.name}' has shape [${t.shape}], the heads expect [${p.torchShape}]`);
      values.set(p.name, toFloat32(t, p.name));
    }
    loadState(this.hst, hstPart, { source });
    for (const p of this.heads.params()) {
      const v = fromTorchLayout(p.layout, tf.tensor(values.get(p.name)!, p.torchShape));
      p.variable.assign(v);
      v.dispose();
    }
  }

  dispose(): void {
    this.heads.dispose();
    this.hst.dispose();
  }
}

/** Nearest-neighbour map of an input-resolution class map back to the original image. */
export function semanticToOriginal(map: Uint8Array, inH: number, inW: number, t: SampleTransform): Uint8Array {
  const out = new Uint8Array(t.origW * t.origH);
  for (let y = 0; y < t.origH; y++) {
    const iy = Math.floor((y + 0.5) * t.scale + t.padY);
    if (iy < 0 || iy >= inH) continue;
    for (let x = 0; x < t.origW; x++) {
      const ix = Math.floor((t.flipped ? t.origW - x - 0.5 : x + 0.5) * t.scale + t.padX);
      if (ix >= 0 && ix < inW) out[y * t.origW + x] = map[iy * inW + ix];
    }
  }
  return out;
}
