// CondInst-style instance masks (Tian et al. 2020): a mask branch turns the stride-s (and 2s) FPN levels into
// C_mask-channel mask features at stride s; a controller conv on the FCOS box tower predicts, at every location,
// the parameters of a tiny per-instance network (three dynamic 1×1 convs: C_mask+2 → 8 → 8 → 1, ReLU between).
// An instance's mask logits are that network applied to [relative coordinates (2), mask features] over the whole
// mask grid. Loss: dice against the GT mask area-averaged to the mask grid. Inference: masks for the kept
// detections, logits bilinearly upsampled to the input size, thresholded at probability 0.5.
//
// Instance selection uses one-hot matmuls instead of tf.gather: gather's gradient (UnsortedSegmentSum) is missing
// on the wasm backend, while matmul gradients exist everywhere.
import { tf } from '../compute/engine';
import { diceLoss } from '../losses/dice';
import { checkStrides, type FeatureLevels, type Stride } from './fpn';
import type { CondInstTargets } from './condinst-targets';
import { writeRelCoords } from './condinst-targets';
import type { Detections } from './fcos-decode';
import type { FcosOutputs } from './fcos-head';
import { locationsFor, locationStrides, type LevelShape } from './fcos-targets';
import { ConvTower } from './layers/conv-block';
import { Conv2d } from './layers/conv';
import { makeNorm, type Norm, type NormKind } from './layers/norm';
import type { ParamStore } from './layers/params';
import { resizeBilinear } from './layers/resize';

export interface CondInstOptions {
  /** FPN width. */
  inChannels: number;
  /** Width of the FCOS box tower the controller reads. */
  controllerInChannels: number;
  /** Stride of the mask features (4 or 8; default 8). Levels maskStride and 2·maskStride feed the branch. */
  maskStride?: 4 | 8;
  branchWidth?: number; // 128
  branchDepth?: number; // 4 (convs after the level fusion, including the first)
  maskChannels?: number; // 8 (C_mask)
  dynChannels?: number; // 8
  norm?: NormKind; // 'gn'
  /** Mask-loss instances per batch (CondInst samples positives); 64. */
  maxInstances?: number;
}

export interface CondInstOutputs {
  /** [B, Hm, Wm, C_mask] mask features at maskStride */
  maskFeats: tf.Tensor4D;
  /** [B, N, P] dynamic parameters per location (same order as FcosOutputs) */
  params: tf.Tensor3D;
}

export interface CondInstPredictOptions {
  /** Network input size [H, W]; masks are returned at this size. */
  imageSize: readonly [number, number];
  /** Detections processed per chunk (bounds memory); 32. */
  chunk?: number;
}

export class CondInstHead {
  readonly maskStride: 4 | 8;
  readonly maskChannels: number;
  readonly dynChannels: number;
  /** Dynamic parameters per location: weights (C_mask+2)·8 + 8·8 + 8·1, biases 8 + 8 + 1 (CondInst order). */
  readonly numParams: number;
  readonly maxInstances: number;
  private readonly inputStrides: Stride[];
  private readonly refine: { conv: Conv2d; norm: Norm | null }[] = [];
  private readonly tower: ConvTower;
  private readonly out: Conv2d;
  private readonly controller: Conv2d;

  /** Parameters: `refine.{i}.{0,1}`, `tower.{3j,3j+1}`, `out`, `controller` (under e.g. `heads.mask`). */
  constructor(store: ParamStore, readonly opts: CondInstOptions) {
    this.maskStride = opts.maskStride ?? 8;
    this.maskChannels = opts.maskChannels ?? 8;
    this.dynChannels = opts.dynChannels ?? 8;
    this.maxInstances = opts.maxInstances ?? 64;
    const c = this.maskChannels, d = this.dynChannels;
    this.numParams = (c + 2) * d + d * d + d + d + d + 1;
    this.inputStrides = checkStrides([this.maskStride, this.maskStride * 2], 'CondInst mask branch');
    const width = opts.branchWidth ?? 128;
    const norm = opts.norm ?? 'gn';
    const kaiming = { kind: 'normal', std: Math.sqrt(2 / (9 * width)) } as const;
    this.inputStrides.forEach((_, i) => {
      const sc = store.scope('refine').scope(i);
      this.refine.push({ conv: new Conv2d(sc.scope(0), { inChannels: opts.inChannels, outChannels: width, kernel: 3, init: kaiming }), norm: makeNorm(sc.scope(1), norm, width) });
    });
    this.tower = new ConvTower(store.scope('tower'), { inChannels: width, channels: width, depth: Math.max(0, (opts.branchDepth ?? 4) - 1), norm, init: kaiming });
    this.out = new Conv2d(store.scope('out'), { inChannels: width, outChannels: c, kernel: 1, init: { kind: 'normal', std: Math.sqrt(2 / width) } });
    this.controller = new Conv2d(store.scope('controller'), { inChannels: opts.controllerInChannels, outChannels: this.numParams, kernel: 3, init: { kind: 'normal', std: 0.01 } });
    this.initControllerBias(store.seed);
  }

  /**
   * With a zero controller bias every dynamic weight starts near 0, the three-layer product makes all mask logits
   * ≈ 0 and the gradients reaching the controller vanish (slow start on small data). The bias of the weight part
   * is therefore initialised like a He-initialised 1×1 conv, so every location starts from the same non-degenerate
   * small network that the controller then specialises.
   */
  private initControllerBias(seed: number): void {
    const c = this.maskChannels, d = this.dynChannels;
    const fans = [
      [(c + 2) * d, c + 2],
      [d * d, d],
      [d, d],
    ];
    let s = (seed * 2654435761 + 12345) >>> 0;
    const rand = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const bias = new Float32Array(this.numParams);
    let o = 0;
    for (const [count, fanIn] of fans) {
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < count; i++) bias[o++] = gauss() * std;
    }
    tf.tidy(() => this.controller.bias.assign(tf.tensor1d(bias)));
  }

  /** The FPN levels this head reads. */
  get requiredStrides(): Stride[] {
    return this.inputStrides;
  }

  forward(levels: FeatureLevels, fcos: Pick<FcosOutputs, 'boxTowers'>): CondInstOutputs {
    // mask branch
    let fused: tf.Tensor4D | null = null;
    this.inputStrides.forEach((s, i) => {
      const x = levels[s];
      if (!x) throw new Error(`CondInst: FPN level with stride ${s} is missing.`);
      let y = this.refine[i].conv.apply(x);
      if (this.refine[i].norm) y = this.refine[i].norm!.apply(y);
      y = tf.relu(y);
      if (fused) y = resizeBilinear(y, fused.shape[1], fused.shape[2]);
      fused = (fused ? tf.add(fused, y) : y) as tf.Tensor4D;
    });
    const maskFeats = this.out.apply(this.tower.apply(fused!));
    // controller on every detection level
    const per = fcos.boxTowers.map((t) => {
      const [b, h, w] = t.shape;
      return tf.reshape(this.controller.apply(t), [b, h * w, this.numParams]) as tf.Tensor3D;
    });
    const params = per.length === 1 ? per[0] : (tf.concat(per, 1) as tf.Tensor3D);
    return { maskFeats, params };
  }

  /**
   * Mask logits [M, Hm·Wm] of M instances: params [M,P], feats [B,Hm·Wm,C], imageOneHot [M,B], rel [M,Hm·Wm,2].
   */
  private dynamicMasks(params: tf.Tensor2D, feats: tf.Tensor3D, imageOneHot: tf.Tensor2D, rel: tf.Tensor3D): tf.Tensor2D {
    const [M] = params.shape;
    const [B, HW, C] = feats.shape;
    const d = this.dynChannels;
    const sel = tf.reshape(tf.matMul(imageOneHot, tf.reshape(feats, [B, HW * C])), [M, HW, C]);
    const x = tf.concat([rel, sel], 2); // [M, HW, C+2], coordinates first (CondInst order)
    const sizes = [(C + 2) * d, d * d, d, d, d, 1];
    const [w0, w1, w2, b0, b1, b2] = tf.split(params, sizes, 1);
    // Per-instance weights make these batched [M,HW,in]×[M,in,out] products; with in/out ≤ 10 they are done as
    // broadcast multiply + sum, which is much faster than M tiny matmuls (and their transposed backward passes).
    // PyTorch stores each dynamic weight as (out, in): reshape to [M,1,out,in] and reduce over `in`.
    const W0 = tf.reshape(w0, [M, 1, d, C + 2]);
    const W1 = tf.reshape(w1, [M, 1, d, d]);
    const W2 = tf.reshape(w2, [M, 1, d]);
    let h = tf.sum(tf.mul(tf.reshape(x, [M, HW, 1, C + 2]), W0), 3); // [M,HW,d]
    h = tf.relu(tf.add(h, tf.reshape(b0, [M, 1, d])));
    h = tf.sum(tf.mul(tf.reshape(h, [M, HW, 1, d]), W1), 3);
    h = tf.relu(tf.add(h, tf.reshape(b1, [M, 1, d])));
    const logits = tf.add(tf.sum(tf.mul(h, W2), 2), tf.reshape(b2, [M, 1])); // [M,HW]
    return logits as tf.Tensor2D;
  }

  /** [M, depth] selection matrix (built in JS: tf.oneHot rejects depth 1, i.e. a batch of one image). */
  private oneHot(indices: Int32Array, depth: number): tf.Tensor2D {
    const m = new Float32Array(indices.length * depth);
    indices.forEach((v, i) => (m[i * depth + v] = 1));
    return tf.tensor2d(m, [indices.length, depth]);
  }

  /** Mean dice loss over the sampled instances; exactly 0 (finite) when the batch has none. */
  loss(out: CondInstOutputs, t: CondInstTargets): { mask_dice: tf.Scalar } {
    const [B, Hm, Wm, C] = out.maskFeats.shape;
    const [, N, P] = out.params.shape;
    if (Hm !== t.maskH || Wm !== t.maskW)
      throw new Error(`CondInst loss: targets are for a ${t.maskH}×${t.maskW} mask grid, the head produced ${Hm}×${Wm}.`);
    if (t.count === 0) return { mask_dice: tf.scalar(0) };
    return tf.tidy(() => {
      const M = t.count;
      const params = tf.matMul(this.oneHot(t.flatIndex, B * N), tf.reshape(out.params, [B * N, P])) as tf.Tensor2D;
      const feats = tf.reshape(out.maskFeats, [B, Hm * Wm, C]) as tf.Tensor3D;
      const rel = tf.tensor3d(t.relCoords, [M, Hm * Wm, 2]);
      const logits = this.dynamicMasks(params, feats, this.oneHot(t.imageIndex, B), rel);
      const dice = diceLoss(tf.sigmoid(logits), tf.tensor2d(t.gtMasks, [M, Hm * Wm]));
      return { mask_dice: tf.mean(dice) as tf.Scalar };
    });
  }

  /**
   * Binary masks (H·W bytes, 1 = inside) for every detection of every image, in detection order.
   * `levels` are the FCOS levels (FcosOutputs.levels) that the detections' location indices refer to.
   */
  async predict(out: CondInstOutputs, dets: readonly Detections[], levels: readonly LevelShape[], opts: CondInstPredictOptions): Promise<Uint8Array[][]> {
    const [B, Hm, Wm, C] = out.maskFeats.shape;
    const [, N, P] = out.params.shape;
    const [H, W] = opts.imageSize;
    const chunk = opts.chunk ?? 32;
    const locs = locationsFor(levels);
    const strides = locationStrides(levels);
    const all: { b: number; loc: number }[] = [];
    dets.forEach((d, b) => d.locations.forEach((loc) => all.push({ b, loc })));
    const masks: Uint8Array[] = [];
    for (let start = 0; start < all.length; start += chunk) {
      const part = all.slice(start, start + chunk);
      const M = part.length;
      const rel = new Float32Array(M * Hm * Wm * 2);
      part.forEach((q, i) => writeRelCoords(rel, i * Hm * Wm * 2, locs[2 * q.loc], locs[2 * q.loc + 1], strides[q.loc], this.maskStride, Hm, Wm));
      const probs = tf.tidy(() => {
        const params = tf.matMul(this.oneHot(Int32Array.from(part, (q) => q.b * N + q.loc), B * N), tf.reshape(out.params, [B * N, P])) as tf.Tensor2D;
        const feats = tf.reshape(out.maskFeats, [B, Hm * Wm, C]) as tf.Tensor3D;
        const logits = this.dynamicMasks(params, feats, this.oneHot(Int32Array.from(part, (q) => q.b), B), tf.tensor3d(rel, [M, Hm * Wm, 2]));
        const up = resizeBilinear(tf.reshape(logits, [M, Hm, Wm, 1]) as tf.Tensor4D, Hm * this.maskStride, Wm * this.maskStride);
        const cropped = up.shape[1] === H && up.shape[2] === W ? up : tf.slice(up, [0, 0, 0, 0], [M, H, W, 1]);
        return tf.greater(cropped, 0); // σ(logit) > 0.5
      });
      const data = (await probs.data()) as Uint8Array;
      probs.dispose();
      for (let i = 0; i < M; i++) masks.push(Uint8Array.from(data.subarray(i * H * W, (i + 1) * H * W)));
    }
    const result: Uint8Array[][] = [];
    let k = 0;
    for (const d of dets) {
      result.push(masks.slice(k, k + d.locations.length));
      k += d.locations.length;
    }
    return result;
  }
}
