// Semantic-FPN head (Kirillov et al. 2019): each FPN level goes through max(1, log2(stride/4)) blocks of
// conv3×3 + norm + ReLU (+ 2× bilinear upsampling after each block for strides > 4), the level outputs are summed
// at stride 4, a 1×1 conv classifies (class 0 = background), and the logits are upsampled to the input size.
// Loss: cross-entropy with ignore label 255 on the upsampled logits.
import { tf } from '../compute/engine';
import { crossEntropyWithIgnore, IGNORE_LABEL } from '../losses/cross-entropy';
import { checkStrides, type FeatureLevels, type Stride } from './fpn';
import { Conv2d } from './layers/conv';
import { makeNorm, type Norm, type NormKind } from './layers/norm';
import type { ParamStore } from './layers/params';
import { resizeBilinear } from './layers/resize';

export interface SemanticFpnOptions {
  /** Classes including background (index 0). */
  numClasses: number;
  /** FPN width. */
  inChannels: number;
  /** Levels summed (default 4,8,16,32). */
  strides?: readonly Stride[];
  /** Width of the scale heads (Panoptic FPN: 128). */
  width?: number;
  norm?: NormKind; // 'gn'
}

interface Block {
  conv: Conv2d;
  norm: Norm | null;
  upsample: boolean;
}

export class SemanticFpnHead {
  readonly strides: Stride[];
  readonly numClasses: number;
  private readonly scaleHeads: Block[][] = [];
  private readonly predictor: Conv2d;

  /** Parameters: `scale_heads.{level}.{3j}` (conv), `.{3j+1}` (norm), `predictor.{weight,bias}`. */
  constructor(store: ParamStore, readonly opts: SemanticFpnOptions) {
    if (!(opts.numClasses >= 2)) throw new Error(`Semantic head: numClasses (with background) must be ≥ 2 (got ${opts.numClasses}).`);
    this.strides = checkStrides(opts.strides ?? [4, 8, 16, 32], 'Semantic head');
    this.numClasses = opts.numClasses;
    const width = opts.width ?? 128;
    this.strides.forEach((s, li) => {
      const n = Math.max(1, Math.log2(s / 4));
      const blocks: Block[] = [];
      for (let j = 0; j < n; j++) {
        const sc = store.scope('scale_heads').scope(li);
        blocks.push({
          conv: new Conv2d(sc.scope(3 * j), { inChannels: j === 0 ? opts.inChannels : width, outChannels: width, kernel: 3, init: { kind: 'normal', std: Math.sqrt(2 / (9 * width)) } }),
          norm: makeNorm(sc.scope(3 * j + 1), opts.norm ?? 'gn', width),
          upsample: s > 4,
        });
      }
      this.scaleHeads.push(blocks);
    });
    this.predictor = new Conv2d(store.scope('predictor'), { inChannels: width, outChannels: opts.numClasses, kernel: 1, init: { kind: 'normal', std: 0.01 } });
  }

  /** Logits at stride 4: [B, H/4, W/4, numClasses] (the size of the finest level used, ×(its stride/4)). */
  forward(levels: FeatureLevels): tf.Tensor4D {
    let sum: tf.Tensor4D | null = null;
    let outH = 0;
    let outW = 0;
    this.strides.forEach((s, li) => {
      const x0 = levels[s];
      if (!x0) throw new Error(`Semantic head: FPN level with stride ${s} is missing.`);
      if (li === 0) {
        outH = x0.shape[1] * (s / 4);
        outW = x0.shape[2] * (s / 4);
      }
      let x = x0;
      for (const b of this.scaleHeads[li]) {
        x = b.conv.apply(x);
        if (b.norm) x = b.norm.apply(x);
        x = tf.relu(x);
        if (b.upsample) x = resizeBilinear(x, x.shape[1] * 2, x.shape[2] * 2);
      }
      // odd input sizes: ceil-rounded coarse maps can overshoot by a pixel after upsampling
      if (x.shape[1] !== outH || x.shape[2] !== outW) x = tf.slice(x, [0, 0, 0, 0], [-1, Math.min(outH, x.shape[1]), Math.min(outW, x.shape[2]), -1]);
      if (x.shape[1] !== outH || x.shape[2] !== outW) x = resizeBilinear(x, outH, outW);
      sum = (sum ? tf.add(sum, x) : x) as tf.Tensor4D;
    });
    return this.predictor.apply(sum!);
  }

  /** Bilinear upsampling of stride-4 logits to [B, H, W, numClasses]. */
  upsample(logits: tf.Tensor4D, imageH: number, imageW: number): tf.Tensor4D {
    return resizeBilinear(logits, imageH, imageW);
  }

  /** labels: [B·H·W] values 0..numClasses-1 or 255 (ignore), at the input size. */
  loss(logits: tf.Tensor4D, labels: ArrayLike<number>, imageH: number, imageW: number): { sem_ce: tf.Scalar } {
    const b = logits.shape[0];
    if (labels.length !== b * imageH * imageW)
      throw new Error(`Semantic loss: ${labels.length} labels for a ${b}×${imageH}×${imageW} batch.`);
    return tf.tidy(() => {
      const up = this.upsample(logits, imageH, imageW);
      const lab = tf.tensor3d(Int32Array.from(labels), [b, imageH, imageW], 'int32');
      return { sem_ce: crossEntropyWithIgnore(up, lab, IGNORE_LABEL) };
    });
  }

  /** Per-image class maps at the input size (argmax; 0 = background). */
  async predict(logits: tf.Tensor4D, imageH: number, imageW: number): Promise<Uint8Array[]> {
    const am = tf.tidy(() => tf.argMax(this.upsample(logits, imageH, imageW), 3));
    const data = (await am.data()) as Int32Array;
    am.dispose();
    const b = logits.shape[0];
    const out: Uint8Array[] = [];
    for (let i = 0; i < b; i++) out.push(Uint8Array.from(data.subarray(i * imageH * imageW, (i + 1) * imageH * imageW)));
    return out;
  }
}
