// Every task head over one shared FPN: detection (FCOS), instance masks (CondInst, needs detection), semantic
// segmentation (Semantic FPN) and image classification (HST head on stage 4), in any combination.
//
// Division of work for the training engine:
//   prepareTargets(images, [H,W])   pure JS, no tensors: can run in the data pipeline / a worker
//   loss(stages, prepared)          inside tf.variableGrads: named loss parts + weighted total
//   predict(stages, {imageSize})    decoded per-image outputs (boxes, binary masks, class maps, class probabilities)
import { tf } from '../compute/engine';
import { ClassifyHead } from './classify-head';
import { CondInstHead } from './condinst-head';
import { buildCondInstTargets, type CondInstTargets, type ImageMasks } from './condinst-targets';
import { decodeFcos, type Detections, type FcosDecodeOptions } from './fcos-decode';
import { FcosHead } from './fcos-head';
import { assignFcosTargets, levelShapesFor, type FcosTargets } from './fcos-targets';
import { Fpn, STAGE_STRIDES, type Stride } from './fpn';
import type { NormKind } from './layers/norm';
import { ParamStore, type NamedParam } from './layers/params';
import { SemanticFpnHead } from './semantic-fpn-head';
import { semanticFromInstances } from './semantic-targets';

export type TaskName = 'detect' | 'instance' | 'semantic' | 'classify';

export interface MultiTaskOptions {
  /** Channels of the 4 stage outputs (dense preset [64,128,256,384]). */
  stageChannels: readonly number[];
  /** Object classes (no background); the semantic head adds background as class 0. */
  numClasses: number;
  tasks: readonly TaskName[];
  /** FPN width (default 128; a CPU preset may use 64 or 32). */
  fpnWidth?: number;
  /** Detection levels (default [8,16,32]). */
  detStrides?: readonly Stride[];
  towerDepth?: number; // FCOS towers, default 4
  norm?: NormKind; // 'gn'
  maskStride?: 4 | 8; // CondInst, default 8
  maskBranchWidth?: number; // default fpnWidth
  maskBranchDepth?: number; // default 4
  maxMaskInstances?: number; // default 64
  semanticWidth?: number; // default fpnWidth
  semanticStrides?: readonly Stride[]; // default [4,8,16,32]
  /** Multiplier per loss part name (det_cls, det_box, det_ctr, mask_dice, sem_ce, cls_ce); default 1. */
  lossWeights?: Partial<Record<string, number>>;
  /** Seed of the deterministic initialisation. */
  seed?: number;
}

/** One image's annotations in network-input pixels (after resize/letterbox/augmentation). */
export interface ImageTargets {
  /** [n*4] x1,y1,x2,y2 */
  boxes?: ArrayLike<number>;
  /** [n] class index 0..K-1 */
  labels?: ArrayLike<number>;
  /** one H·W mask per box (same order), null where a box has no mask */
  masks?: ImageMasks;
  /** H·W semantic labels (0 = background, k+1 = class k, 255 = ignore); derived from masks when absent */
  semantic?: Uint8Array;
  /** image-level class (classification), −1 = unknown */
  classLabel?: number;
}

/** Everything a loss needs, as typed arrays (transferable between threads). */
export interface PreparedTargets {
  batch: number;
  imageSize: [number, number];
  fcos?: FcosTargets;
  condinst?: CondInstTargets;
  /** [B·H·W] */
  semantic?: Uint8Array;
  /** [B] */
  classLabels?: Int32Array;
}

export interface LossResult {
  /** Unweighted parts: det_cls, det_box, det_ctr, mask_dice, sem_ce, cls_ce (those of the active tasks). */
  parts: Record<string, tf.Scalar>;
  /** Σ weight·part */
  total: tf.Scalar;
}

export interface ImagePrediction {
  /** detect/instance: boxes in network-input pixels, best first */
  detections?: Detections;
  /** instance: one H·W binary mask per detection (caller maps to the original image and RLE-encodes) */
  masks?: Uint8Array[];
  /** semantic: H·W class map (0 = background, k+1 = class k) */
  semantic?: Uint8Array;
  /** classify: softmax over the K classes */
  classProbs?: Float32Array;
}

export interface PredictOptions extends FcosDecodeOptions {
  imageSize: readonly [number, number];
  /** compute only these tasks' outputs (default: all); 'detect' alone skips the instance masks */
  only?: readonly TaskName[];
}

export class MultiTaskHeads {
  readonly tasks: Set<TaskName>;
  readonly store: ParamStore;
  readonly fpn: Fpn | null;
  readonly det: FcosHead | null;
  readonly mask: CondInstHead | null;
  readonly sem: SemanticFpnHead | null;
  readonly cls: ClassifyHead | null;
  private readonly weights: Partial<Record<string, number>>;

  /**
   * Parameter names: `heads.fpn.*`, `heads.det.*`, `heads.mask.*`, `heads.sem.*`; the classification head uses
   * the official HST names `fc_norm.running_mean/var`, `head.weight/bias`.
   */
  constructor(readonly opts: MultiTaskOptions) {
    if (opts.tasks.length === 0) throw new Error('Heads: no task selected.');
    for (const t of opts.tasks)
      if (!['detect', 'instance', 'semantic', 'classify'].includes(t)) throw new Error(`Heads: unknown task "${t}" (detect, instance, semantic, classify).`);
    this.tasks = new Set(opts.tasks);
    if (this.tasks.has('instance')) this.tasks.add('detect'); // CondInst's instances are FCOS detections
    this.weights = opts.lossWeights ?? {};
    this.store = ParamStore.create('', opts.seed ?? 0);
    const heads = this.store.scope('heads');
    const width = opts.fpnWidth ?? 128;
    const norm = opts.norm ?? 'gn';
    const detStrides = opts.detStrides ?? [8, 16, 32];
    const maskStride = opts.maskStride ?? 8;
    const semStrides = opts.semanticStrides ?? STAGE_STRIDES;
    const levels = new Set<Stride>();
    if (this.tasks.has('detect')) detStrides.forEach((s) => levels.add(s));
    if (this.tasks.has('instance')) [maskStride, (maskStride * 2) as Stride].forEach((s) => levels.add(s));
    if (this.tasks.has('semantic')) semStrides.forEach((s) => levels.add(s));
    this.fpn = levels.size > 0 ? new Fpn(heads.scope('fpn'), { inChannels: opts.stageChannels, width, levels: [...levels] }) : null;
    this.det = this.tasks.has('detect')
      ? new FcosHead(heads.scope('det'), { numClasses: opts.numClasses, inChannels: width, strides: detStrides, towerDepth: opts.towerDepth, norm })
      : null;
    this.mask =
      this.tasks.has('instance') && this.det
        ? new CondInstHead(heads.scope('mask'), {
            inChannels: width,
            controllerInChannels: this.det.towerWidth,
            maskStride,
            branchWidth: opts.maskBranchWidth ?? width,
            branchDepth: opts.maskBranchDepth,
            norm,
            maxInstances: opts.maxMaskInstances,
          })
        : null;
    this.sem = this.tasks.has('semantic')
      ? new SemanticFpnHead(heads.scope('sem'), { numClasses: opts.numClasses + 1, inChannels: width, strides: semStrides, width: opts.semanticWidth ?? width, norm })
      : null;
    this.cls = this.tasks.has('classify') ? new ClassifyHead(this.store, { inChannels: opts.stageChannels[3], numClasses: opts.numClasses }) : null;
  }

  /** All head parameters and buffers (buffers have `buffer: true`). */
  params(): NamedParam[] {
    return this.store.all();
  }

  /** Builds the per-task targets for a batch; all images share the network input size [H, W]. */
  prepareTargets(images: readonly ImageTargets[], imageSize: readonly [number, number]): PreparedTargets {
    const [H, W] = imageSize;
    const out: PreparedTargets = { batch: images.length, imageSize: [H, W] };
    const gts = images.map((im) => ({ boxes: im.boxes ?? [], labels: im.labels ?? [] }));
    if (this.det) {
      out.fcos = assignFcosTargets(gts, levelShapesFor(H, W, this.det.strides), { numClasses: this.opts.numClasses });
    }
    if (this.mask && out.fcos) {
      out.condinst = buildCondInstTargets(out.fcos, images.map((im) => im.masks ?? []), H, W, this.mask.maskStride, this.mask.maxInstances);
    }
    if (this.sem) {
      const sem = new Uint8Array(images.length * H * W);
      images.forEach((im, b) => {
        const map = im.semantic ?? semanticFromInstances(gts[b].labels, im.masks, H, W);
        if (map.length !== H * W) throw new Error(`Heads: image ${b} has a semantic map of ${map.length} pixels, expected ${H}×${W}.`);
        sem.set(map, b * H * W);
      });
      out.semantic = sem;
    }
    if (this.cls) out.classLabels = Int32Array.from(images, (im) => im.classLabel ?? -1);
    return out;
  }

  /** Loss parts and weighted total for one batch of stage features (call inside tf.variableGrads). */
  loss(stages: readonly tf.Tensor4D[], t: PreparedTargets): LossResult {
    const [H, W] = t.imageSize;
    const parts: Record<string, tf.Scalar> = {};
    const levels = this.fpn ? this.fpn.apply(stages) : {};
    if (this.det) {
      if (!t.fcos) throw new Error('Heads: detection is active but the prepared targets have no FCOS part.');
      const out = this.det.forward(levels);
      Object.assign(parts, this.det.loss(out, t.fcos));
      if (this.mask) {
        if (!t.condinst) throw new Error('Heads: instance masks are active but the prepared targets have no CondInst part.');
        Object.assign(parts, this.mask.loss(this.mask.forward(levels, out), t.condinst));
      }
    }
    if (this.sem) {
      if (!t.semantic) throw new Error('Heads: semantic segmentation is active but the prepared targets have no semantic labels.');
      Object.assign(parts, this.sem.loss(this.sem.forward(levels), t.semantic, H, W));
    }
    if (this.cls) {
      if (!t.classLabels) throw new Error('Heads: classification is active but the prepared targets have no class labels.');
      Object.assign(parts, this.cls.loss(this.cls.forward(stages[3], true), t.classLabels));
    }
    const total = tf.addN(Object.entries(parts).map(([k, v]) => tf.mul(v, this.weights[k] ?? 1))) as tf.Scalar;
    return { parts, total };
  }

  /** Decoded predictions per image (no gradients; intermediate tensors are freed). */
  async predict(stages: readonly tf.Tensor4D[], opts: PredictOptions): Promise<ImagePrediction[]> {
    const [H, W] = opts.imageSize;
    const B = stages[0].shape[0];
    const results: ImagePrediction[] = Array.from({ length: B }, () => ({}));
    const keep: tf.Tensor[] = [];
    const want = (t: TaskName) => !opts.only || opts.only.includes(t);
    try {
      const levels = this.fpn ? tf.tidy(() => this.fpn!.apply(stages)) : {};
      keep.push(...(Object.values(levels) as tf.Tensor[]));
      if (this.det) {
        const outs = tf.tidy(() => {
          const o = this.det!.forward(levels);
          const m = this.mask && want('instance') ? this.mask.forward(levels, o) : null;
          return m ? [o.cls, o.box, o.ctr, m.maskFeats, m.params] : [o.cls, o.box, o.ctr];
        });
        keep.push(...outs);
        const out = {
          cls: outs[0] as tf.Tensor3D,
          box: outs[1] as tf.Tensor3D,
          ctr: outs[2] as tf.Tensor2D,
          maskFeats: (outs[3] as tf.Tensor4D | undefined) ?? null,
          params: (outs[4] as tf.Tensor3D | undefined) ?? null,
        };
        const shapes = levelShapesFor(H, W, this.det.strides);
        const dets = await decodeFcos({ cls: out.cls, box: out.box, ctr: out.ctr, levels: shapes }, { ...opts, imageSize: [H, W] });
        dets.forEach((d, b) => (results[b].detections = d));
        if (this.mask && out.maskFeats && out.params) {
          const masks = await this.mask.predict({ maskFeats: out.maskFeats, params: out.params }, dets, shapes, { imageSize: [H, W] });
          masks.forEach((m, b) => (results[b].masks = m));
        }
      }
      if (this.sem && want('semantic')) {
        const logits = tf.tidy(() => this.sem!.forward(levels));
        keep.push(logits);
        (await this.sem.predict(logits, H, W)).forEach((m, b) => (results[b].semantic = m));
      }
      if (this.cls && want('classify')) {
        const logits = tf.tidy(() => this.cls!.forward(stages[3], false));
        keep.push(logits);
        (await this.cls.predict(logits)).forEach((p, b) => (results[b].classProbs = p));
      }
    } finally {
      tf.dispose(keep);
    }
    return results;
  }

  dispose(): void {
    this.store.dispose();
  }
}
