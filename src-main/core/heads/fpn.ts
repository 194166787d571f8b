// Light FPN over the 4 HST stage outputs (strides 4/8/16/32): 1×1 laterals to a common width, top-down
// nearest-upsample + add, 3×3 output convs. Only the levels some head asks for are built (and only the stages
// down to the finest requested level are read), so a detector on strides 8–32 costs nothing at stride 4.
import { tf } from '../compute/engine';
import { Conv2d } from './layers/conv';
import type { ParamStore } from './layers/params';
import { resizeNearest } from './layers/resize';

export const STAGE_STRIDES = [4, 8, 16, 32] as const;
export type Stride = (typeof STAGE_STRIDES)[number];

/** FPN outputs keyed by stride: P2 = 4, P3 = 8, P4 = 16, P5 = 32; each [B, H/stride, W/stride, width]. */
export type FeatureLevels = Partial<Record<Stride, tf.Tensor4D>>;

export interface FpnOptions {
  /** Channels of the 4 stage outputs, e.g. [64,128,256,384] (dense preset). */
  inChannels: readonly number[];
  /** Common width of every pyramid level (default 128). */
  width?: number;
  /** Which levels to output (default all four). */
  levels?: readonly Stride[];
}

export function checkStrides(levels: readonly number[], what: string): Stride[] {
  for (const s of levels)
    if (!(STAGE_STRIDES as readonly number[]).includes(s)) throw new Error(`${what}: stride ${s} is not one of 4, 8, 16, 32.`);
  return [...new Set(levels)].sort((a, b) => a - b) as Stride[];
}

export class Fpn {
  readonly width: number;
  readonly levels: Stride[];
  private readonly firstStage: number;
  private readonly laterals = new Map<number, Conv2d>(); // stage index → 1×1 conv
  private readonly outputs = new Map<number, Conv2d>(); // stage index → 3×3 conv

  /** Parameters: `<scope>.lateral.{i}.{weight,bias}`, `<scope>.output.{i}.{weight,bias}` (i = stage index 0..3). */
  constructor(store: ParamStore, readonly opts: FpnOptions) {
    if (opts.inChannels.length !== 4) throw new Error(`FPN: expected 4 stage widths, got ${opts.inChannels.length}.`);
    this.width = opts.width ?? 128;
    this.levels = checkStrides(opts.levels ?? STAGE_STRIDES, 'FPN');
    if (this.levels.length === 0) throw new Error('FPN: no output level requested.');
    this.firstStage = STAGE_STRIDES.indexOf(this.levels[0]);
    for (let i = this.firstStage; i < 4; i++) {
      const cin = opts.inChannels[i];
      this.laterals.set(
        i,
        new Conv2d(store.scope('lateral').scope(i), { inChannels: cin, outChannels: this.width, kernel: 1, init: { kind: 'uniform', bound: Math.sqrt(3 / cin) } }),
      );
      if (this.levels.includes(STAGE_STRIDES[i])) {
        const fanIn = 9 * this.width;
        this.outputs.set(
          i,
          new Conv2d(store.scope('output').scope(i), { inChannels: this.width, outChannels: this.width, kernel: 3, init: { kind: 'uniform', bound: Math.sqrt(3 / fanIn) } }),
        );
      }
    }
  }

  /** stages: the 4 stage maps [B,H/4,W/4,C1] … [B,H/32,W/32,C4] → requested levels [B,h,w,width]. */
  apply(stages: readonly tf.Tensor4D[]): FeatureLevels {
    if (stages.length !== 4) throw new Error(`FPN: expected 4 stage feature maps, got ${stages.length}.`);
    for (let i = this.firstStage; i < 4; i++) {
      const c = stages[i].shape[3];
      if (c !== this.opts.inChannels[i]) throw new Error(`FPN: stage ${i + 1} has ${c} channels, expected ${this.opts.inChannels[i]}.`);
    }
    const out: FeatureLevels = {};
    let top: tf.Tensor4D | null = null;
    for (let i = 3; i >= this.firstStage; i--) {
      const lat = this.laterals.get(i)!.apply(stages[i]);
      const [, h, w] = lat.shape;
      const merged: tf.Tensor4D = top ? tf.add(lat, resizeNearest(top, h, w)) : lat;
      top = merged;
      const oc = this.outputs.get(i);
      if (oc) out[STAGE_STRIDES[i]] = oc.apply(merged);
    }
    return out;
  }
}
