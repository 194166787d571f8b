// Every model variable is registered here under its official PyTorch state_dict name together with its
// PyTorch layout, so checkpoints, the trainable set and backbone import are all driven by one table.
import { tf } from '../compute/engine';
import { tfSeed } from '../compute/tf-seed';
import { isTrainableName } from './trainable';

/** How a PyTorch tensor maps to our channels-last variable. */
export type TorchLayout =
  | 'plain' //   same shape and order
  | 'linear' //  torch (out, in)          ↔ ours [in, out]
  | 'conv'; //   torch (out, in, kh, kw)  ↔ ours [kh, kw, in, out]

export interface ParamEntry {
  /** official PyTorch name, e.g. `blocks.0.attn.qkv.weight` */
  name: string;
  variable: tf.Variable;
  layout: TorchLayout;
  /** shape of the tensor in the PyTorch state_dict */
  torchShape: number[];
  /** BatchNorm running statistics: saved and loaded, never optimised */
  buffer: boolean;
  /** part of the frozen-architecture ViT backbone (what a timm/HF checkpoint provides) */
  backbone: boolean;
}

export function tfShapeOf(torchShape: number[], layout: TorchLayout): number[] {
  if (layout === 'linear') return [torchShape[1], torchShape[0]];
  if (layout === 'conv') return [torchShape[2], torchShape[3], torchShape[1], torchShape[0]];
  return [...torchShape];
}

let storeCounter = 0;

/** Deterministic seeds for random init when the model is built with a seed; random otherwise. */
export class SeedStream {
  private n = 0;
  constructor(private readonly base?: number) {}
  next(): number | undefined {
    // seed 0's first parameter would otherwise be 0, which tfjs reads as unseeded
    return this.base === undefined ? undefined : tfSeed(this.base * 7919 + this.n++);
  }
}

export class ParamStore {
  readonly entries = new Map<string, ParamEntry>();
  /** tfjs variable names are global: a per-store prefix lets several models coexist in one process. */
  readonly prefix = `hst${++storeCounter}`;
  readonly seeds: SeedStream;
  /** backbone weights will be loaded: fill them with zeros (cheap, and never mistaken for trained weights) */
  backboneZeros = false;

  constructor(seed?: number) {
    this.seeds = new SeedStream(seed);
  }

  /** Registers a variable; `init` receives the tfjs shape and returns its initial value. */
  add(
    name: string,
    torchShape: number[],
    layout: TorchLayout,
    init: (shape: number[]) => tf.Tensor,
    opts: { buffer?: boolean; backbone?: boolean } = {},
  ): tf.Variable {
    if (this.entries.has(name)) throw new Error(`parameter ${name} registered twice`);
    const shape = tfShapeOf(torchShape, layout);
    const buffer = opts.buffer ?? false;
    const value = tf.tidy(() => (opts.backbone && this.backboneZeros ? tf.zeros(shape) : init(shape)));
    if (value.shape.join(',') !== shape.join(',')) throw new Error(`init of ${name} gave shape [${value.shape}] instead of [${shape}]`);
    const variable = tf.variable(value, !buffer && isTrainableName(name), `${this.prefix}/${name}`);
    value.dispose();
    this.entries.set(name, { name, variable, layout, torchShape: [...torchShape], buffer, backbone: opts.backbone ?? false });
    return variable;
  }

  get(name: string): tf.Variable {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no parameter named ${name}`);
    return e.variable;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => !e.buffer && isTrainableName(e.name)).map((e) => e.variable);
  }

  frozenVariables(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => e.buffer || !isTrainableName(e.name)).map((e) => e.variable);
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}
