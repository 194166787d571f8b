// A stack of conv3x3 → norm → ReLU blocks named like a PyTorch nn.Sequential
// (conv at index 3i, norm at 3i+1, ReLU at 3i+2 has no parameters), e.g. `cls_tower.0.weight`, `cls_tower.1.weight`.
import { tf } from '../../compute/engine';
import { Conv2d } from './conv';
import { makeNorm, type Norm, type NormKind } from './norm';
import type { ParamStore, Init } from './params';

export interface ConvTowerOptions {
  inChannels: number;
  channels: number;
  depth: number;
  norm: NormKind;
  gnGroups?: number;
  init?: Init;
}

export class ConvTower {
  private readonly convs: Conv2d[] = [];
  private readonly norms: (Norm | null)[] = [];

  constructor(store: ParamStore, readonly opts: ConvTowerOptions) {
    for (let i = 0; i < opts.depth; i++) {
      const cin = i === 0 ? opts.inChannels : opts.channels;
      this.convs.push(new Conv2d(store.scope(3 * i), { inChannels: cin, outChannels: opts.channels, kernel: 3, init: opts.init }));
      this.norms.push(makeNorm(store.scope(3 * i + 1), opts.norm, opts.channels, opts.gnGroups));
    }
  }

  get outChannels(): number {
    return this.opts.depth > 0 ? this.opts.channels : this.opts.inChannels;
  }

  /** x [B,H,W,in] → [B,H,W,channels] (identity when depth is 0). */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    let y = x;
    for (let i = 0; i < this.convs.length; i++) {
      y = this.convs[i].apply(y);
      const n = this.norms[i];
      if (n) y = n.apply(y);
      y = tf.relu(y);
    }
    return y;
  }
}
