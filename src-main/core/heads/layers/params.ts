// Named trainable parameters for the task heads.
//
// Every parameter carries the name it will have in a safetensors checkpoint (PyTorch state_dict names,
// e.g. `heads.det.cls_tower.0.weight`) and the layout kind the exporter needs to permute it
// (TF stores conv kernels [kh,kw,in,out] and linear weights [in,out]; PyTorch wants (out,in,kh,kw) / (out,in)).
//
// tfjs registers variable names process-wide and refuses duplicates, so the tf.Variable gets a unique
// suffix (`@<n>`) while `NamedParam.name` stays the clean checkpoint name. Gradients from
// `tf.variableGrads` are keyed by `variable.name`.
import { tf } from '../../compute/engine';
import { tfSeed } from '../../compute/tf-seed';
import { fromTorchValues, toTorchValues } from '../../io/torch-layout';

/** Same vocabulary as the model's ParamStore (src-main/core/model/params.ts): 'conv' = torch (out,in,kh,kw)
 *  ↔ ours [kh,kw,in,out]; 'linear' = torch (out,in) ↔ ours [in,out]; 'plain' = same shape. */
export type ParamLayout = 'plain' | 'linear' | 'conv';

/** Structurally the model's ParamEntry, so the training engine can merge model and head parameter lists. */
export interface NamedParam {
  /** Checkpoint name (safetensors / PyTorch state_dict key). */
  name: string;
  variable: tf.Variable;
  layout: ParamLayout;
  /** shape of the tensor in the PyTorch state_dict */
  torchShape: number[];
  /** true for buffers such as BatchNorm running statistics (saved, never given to the optimizer). */
  buffer: boolean;
  /** always false for heads (only the ViT backbone's own weights are "backbone"). */
  backbone: false;
}

function torchShapeOf(shape: number[], layout: ParamLayout): number[] {
  if (layout === 'conv') return [shape[3], shape[2], shape[0], shape[1]];
  if (layout === 'linear') return [shape[1], shape[0]];
  return [...shape];
}

export type Init =
  | { kind: 'normal'; std: number }
  | { kind: 'truncNormal'; std: number }
  | { kind: 'const'; value: number }
  | { kind: 'uniform'; bound: number };

let uniqueCounter = 0;

/** FNV-1a hash of a string, used to derive a per-parameter seed from the module seed. */
function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function initTensor(shape: number[], init: Init, seed: number): tf.Tensor {
  switch (init.kind) {
    case 'normal':
      return tf.randomNormal(shape, 0, init.std, 'float32', seed);
    case 'truncNormal':
      return tf.truncatedNormal(shape, 0, init.std, 'float32', seed);
    case 'uniform':
      return tf.randomUniform(shape, -init.bound, init.bound, 'float32', seed);
    case 'const':
      return tf.fill(shape, init.value, 'float32');
  }
}

/**
 * A flat registry of parameters shared by a module tree; `scope('x')` returns a view that prefixes names.
 * Initialisation is deterministic: each parameter's seed is hash(name) xor the store's seed.
 */
export class ParamStore {
  private constructor(
    private readonly list: NamedParam[],
    readonly prefix: string,
    readonly seed: number,
  ) {}

  static create(prefix: string, seed = 0): ParamStore {
    return new ParamStore([], prefix, seed);
  }

  scope(sub: string | number): ParamStore {
    return new ParamStore(this.list, this.full(String(sub)), this.seed);
  }

  private full(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  /** `shape` is the TF-layout shape. Buffers are created non-trainable. */
  add(name: string, shape: number[], init: Init, layout: ParamLayout, buffer = false): tf.Variable {
    const full = this.full(name);
    if (this.list.some((p) => p.name === full)) throw new Error(`Parameter ${full} is defined twice.`);
    const value = tf.tidy(() => initTensor(shape, init, tfSeed((hashName(full) ^ this.seed) >>> 0)));
    const variable = tf.variable(value, !buffer, `${full}@${++uniqueCounter}`);
    value.dispose();
    this.list.push({ name: full, variable, layout, torchShape: torchShapeOf(shape, layout), buffer, backbone: false });
    return variable;
  }

  /** Every parameter registered through this store or any of its scopes. */
  all(): NamedParam[] {
    return this.list.slice();
  }

  /** Parameters whose name starts with this view's prefix. */
  own(): NamedParam[] {
    const p = this.prefix ? this.prefix + '.' : '';
    return this.list.filter((x) => x.name.startsWith(p));
  }

  dispose(): void {
    for (const p of this.own()) p.variable.dispose();
  }
}

/** Converts a head parameter to the PyTorch layout used in checkpoints (new tensor; caller disposes). */
export function toTorchLayout(p: NamedParam): tf.Tensor {
  const v = Float32Array.from(p.variable.dataSync() as Float32Array);
  return tf.tensor(toTorchValues(v, p.variable.shape, p.layout), p.torchShape, 'float32');
}

/** Inverse of toTorchLayout: a PyTorch-layout tensor → the TF layout of `layout` (new tensor). */
export function fromTorchLayout(layout: ParamLayout, t: tf.Tensor): tf.Tensor {
  const s = t.shape as number[];
  const tfShape: number[] = layout === 'conv' ? [s[2], s[3], s[1], s[0]] : layout === 'linear' ? [s[1], s[0]] : s;
  return tf.tensor(fromTorchValues(Float32Array.from(t.dataSync() as Float32Array), tfShape, layout), tfShape, 'float32');
}
