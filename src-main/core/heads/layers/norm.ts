// Normalisations used inside the heads: GroupNorm (PyTorch eps 1e-5) or a per-pixel LayerNorm over channels.
import { tf } from '../../compute/engine';
import { fusedNorm, hasFusedNorm } from '../../compute/kernels/fused-norm';
import type { ParamStore } from './params';

export type NormKind = 'gn' | 'ln' | 'none';

export interface Norm {
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

/** Largest group count ≤ maxGroups that divides c and keeps ≥ minPerGroup channels per group. */
export function pickGroups(c: number, maxGroups = 32, minPerGroup = 4): number {
  for (let g = Math.min(maxGroups, Math.floor(c / minPerGroup)); g > 1; g--) if (c % g === 0) return g;
  return 1;
}

export class GroupNorm implements Norm {
  readonly weight: tf.Variable; // [C]
  readonly bias: tf.Variable; // [C]

  constructor(store: ParamStore, readonly channels: number, readonly groups: number, readonly eps = 1e-5) {
    if (channels % groups !== 0) throw new Error(`GroupNorm: ${channels} channels do not split into ${groups} groups.`);
    this.weight = store.add('weight', [channels], { kind: 'const', value: 1 }, 'plain');
    this.bias = store.add('bias', [channels], { kind: 'const', value: 0 }, 'plain');
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (hasFusedNorm()) return fusedNorm(x, this.weight, this.bias, this.eps, x.shape[1] * x.shape[2], this.groups) as tf.Tensor4D;
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const g = this.groups;
      const xg = tf.reshape(x, [b, h * w, g, c / g]);
      const { mean, variance } = tf.moments(xg, [1, 3], true);
      const xn = tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(tf.reshape(xn, [b, h, w, c]), this.weight), this.bias) as tf.Tensor4D;
    });
  }
}

export class ChannelLayerNorm implements Norm {
  readonly weight: tf.Variable; // [C]
  readonly bias: tf.Variable; // [C]

  constructor(store: ParamStore, readonly channels: number, readonly eps = 1e-6) {
    this.weight = store.add('weight', [channels], { kind: 'const', value: 1 }, 'plain');
    this.bias = store.add('bias', [channels], { kind: 'const', value: 0 }, 'plain');
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (hasFusedNorm()) return fusedNorm(x, this.weight, this.bias, this.eps, 1, 1) as tf.Tensor4D;
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, [3], true);
      const xn = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(xn, this.weight), this.bias) as tf.Tensor4D;
    });
  }
}

export function makeNorm(store: ParamStore, kind: NormKind, channels: number, groups?: number): Norm | null {
  if (kind === 'gn') return new GroupNorm(store, channels, groups ?? pickGroups(channels));
  if (kind === 'ln') return new ChannelLayerNorm(store, channels);
  return null;
}
