// FCOS-style anchor-free detection head over FPN levels: shared class/box towers (conv3×3 + norm + ReLU),
// class logits (sigmoid focal loss, prior-probability bias), box distances l,t,r,b = act(scale_level · x) · stride
// (GIoU loss, centerness-weighted), centerness on the box tower (BCE). The towers and predictors are shared by
// all levels; each level has its own learnable scale.
import { tf } from '../compute/engine';
import { sigmoidFocalLoss, type FocalOptions } from '../losses/focal';
import { giouLossLtrb } from '../losses/giou';
import { bceWithLogitsWeighted } from '../losses/bce';
import { checkStrides, type FeatureLevels, type Stride } from './fpn';
import { ConvTower } from './layers/conv-block';
import { Conv2d } from './layers/conv';
import type { NormKind } from './layers/norm';
import type { ParamStore } from './layers/params';
import type { FcosTargets, LevelShape } from './fcos-targets';

export interface FcosHeadOptions {
  numClasses: number;
  /** Channels of the FPN levels. */
  inChannels: number;
  /** FPN levels used for detection, e.g. [8,16,32] for small inputs or [4,8,16,32]. */
  strides: readonly Stride[];
  /** Convs per tower (FCOS: 4; a CPU preset may use 2). */
  towerDepth?: number;
  /** Tower width (default inChannels). */
  towerWidth?: number;
  norm?: NormKind; // 'gn'
  gnGroups?: number;
  /** Initial foreground probability of the class logits (bias −log((1−π)/π)); 0.01. */
  priorProb?: number;
  /** 'exp' (FCOS v1; smooth everywhere, default) or 'relu' (FCOS with normalised targets). */
  boxActivation?: 'exp' | 'relu';
}

/** Raw per-location predictions, levels concatenated in FcosTargets order. */
export interface FcosOutputs {
  /** [B,N,K] class logits */
  cls: tf.Tensor3D;
  /** [B,N,4] predicted l,t,r,b in input pixels (≥ 0) */
  box: tf.Tensor3D;
  /** [B,N] centerness logits */
  ctr: tf.Tensor2D;
  levels: LevelShape[];
  /** Box-tower output per level [B,h,w,towerWidth] (CondInst's controller reads it). */
  boxTowers: tf.Tensor4D[];
}

export interface FcosLossParts {
  det_cls: tf.Scalar;
  det_box: tf.Scalar;
  det_ctr: tf.Scalar;
}

// exp(x) above this would overflow float32 ranges in the GIoU areas; no real box is e^12 strides wide.
const MAX_LOG_DIST = 12;

export class FcosHead {
  readonly strides: Stride[];
  readonly numClasses: number;
  readonly towerWidth: number;
  private readonly clsTower: ConvTower;
  private readonly boxTower: ConvTower;
  private readonly clsLogits: Conv2d;
  private readonly bboxPred: Conv2d;
  private readonly centerness: Conv2d;
  private readonly scales: tf.Variable[];
  private readonly boxActivation: 'exp' | 'relu';

  /**
   * Parameters (under the store's scope, e.g. `heads.det`): `cls_tower.{3i,3i+1}.*`, `bbox_tower.{3i,3i+1}.*`,
   * `cls_logits.*`, `bbox_pred.*`, `centerness.*`, `scales.{level}.scale` (scalar, one per used level).
   */
  constructor(store: ParamStore, readonly opts: FcosHeadOptions) {
    if (!(opts.numClasses >= 1)) throw new Error(`FCOS head: numClasses must be ≥ 1 (got ${opts.numClasses}).`);
    this.strides = checkStrides(opts.strides, 'FCOS head');
    this.numClasses = opts.numClasses;
    const depth = opts.towerDepth ?? 4;
    this.towerWidth = depth > 0 ? (opts.towerWidth ?? opts.inChannels) : opts.inChannels;
    const tower = { inChannels: opts.inChannels, channels: this.towerWidth, depth, norm: opts.norm ?? 'gn', gnGroups: opts.gnGroups } as const;
    this.clsTower = new ConvTower(store.scope('cls_tower'), tower);
    this.boxTower = new ConvTower(store.scope('bbox_tower'), tower);
    const pi = opts.priorProb ?? 0.01;
    const w = this.towerWidth;
    this.clsLogits = new Conv2d(store.scope('cls_logits'), { inChannels: w, outChannels: opts.numClasses, kernel: 3, biasInit: -Math.log((1 - pi) / pi) });
    this.bboxPred = new Conv2d(store.scope('bbox_pred'), { inChannels: w, outChannels: 4, kernel: 3 });
    this.centerness = new Conv2d(store.scope('centerness'), { inChannels: w, outChannels: 1, kernel: 3 });
    this.scales = this.strides.map((_, i) => store.scope('scales').scope(i).add('scale', [], { kind: 'const', value: 1 }, 'plain'));
    this.boxActivation = opts.boxActivation ?? 'exp';
  }

  forward(levels: FeatureLevels): FcosOutputs {
    const cls: tf.Tensor3D[] = [];
    const box: tf.Tensor3D[] = [];
    const ctr: tf.Tensor2D[] = [];
    const shapes: LevelShape[] = [];
    const towers: tf.Tensor4D[] = [];
    this.strides.forEach((s, li) => {
      const x = levels[s];
      if (!x) throw new Error(`FCOS head: FPN level with stride ${s} is missing.`);
      const [b, h, w] = x.shape;
      shapes.push({ stride: s, h, w });
      const ct = this.clsTower.apply(x);
      const bt = this.boxTower.apply(x);
      towers.push(bt);
      cls.push(tf.reshape(this.clsLogits.apply(ct), [b, h * w, this.numClasses]));
      const raw = tf.mul(this.bboxPred.apply(bt), this.scales[li]);
      const dist = this.boxActivation === 'exp' ? tf.exp(tf.minimum(raw, MAX_LOG_DIST)) : tf.relu(raw);
      box.push(tf.reshape(tf.mul(dist, s), [b, h * w, 4]));
      ctr.push(tf.reshape(this.centerness.apply(bt), [b, h * w]));
    });
    return {
      cls: cls.length === 1 ? cls[0] : tf.concat(cls, 1),
      box: box.length === 1 ? box[0] : tf.concat(box, 1),
      ctr: ctr.length === 1 ? ctr[0] : tf.concat(ctr, 1),
      levels: shapes,
      boxTowers: towers,
    };
  }

  /**
   * FCOS losses: focal over all locations / #pos; GIoU over positives weighted by the centerness target and
   * divided by its sum; centerness BCE over positives / #pos. With no positives every part is finite
   * (the box and centerness parts are exactly 0).
   */
  loss(out: FcosOutputs, t: FcosTargets, focal: FocalOptions = {}): FcosLossParts {
    const [B, N, K] = out.cls.shape;
    if (t.batch !== B || t.numLocations !== N)
      throw new Error(`FCOS loss: targets are for ${t.batch}×${t.numLocations} locations, the head produced ${B}×${N} (input size or strides differ).`);
    return tf.tidy(() => {
      const onehot = new Float32Array(B * N * K);
      const pos = new Float32Array(B * N);
      let ctrSum = 0;
      for (let i = 0; i < B * N; i++) {
        const c = t.labels[i];
        if (c >= 0) {
          onehot[i * K + c] = 1;
          pos[i] = 1;
          ctrSum += t.centerness[i];
        }
      }
      const det_cls = sigmoidFocalLoss(out.cls, tf.tensor3d(onehot, [B, N, K]), t.numPos, focal);
      const posT = tf.tensor2d(pos, [B, N]);
      const ctrT = tf.tensor2d(t.centerness, [B, N]);
      const giou = giouLossLtrb(out.box, tf.tensor3d(t.ltrb, [B, N, 4]));
      const det_box = tf.div(tf.sum(tf.mul(giou, ctrT)), Math.max(ctrSum, 1e-6)) as tf.Scalar;
      const det_ctr = bceWithLogitsWeighted(out.ctr, ctrT, posT, t.numPos);
      return { det_cls, det_box, det_ctr };
    });
  }
}
