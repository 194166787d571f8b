// The task model's full state in PyTorch names and layouts, permuted in plain JS. Same bytes as
// TaskModel.exportTensors()/exportState (a permutation is an exact copy) but fast on every backend: the wasm
// backend's tf.transpose with an explicit perm measured ~0.7 s per 192×768 matrix on the shared machine, which made
// a ViT-S export take ~50 s.
import { tf } from '../compute/engine';
import { f32Tensor, toFloat32, type StTensor } from '../io/safetensors';
import type { TaskModel } from '../task-model/task-model';
import { fromTorchValues, toTorchValues, type TorchLayout } from '../io/torch-layout';

export { fromTorchValues, toTorchValues };

type Layout = TorchLayout;

/** Every HST entry and head parameter (optionally filtered by name) as PyTorch-layout F32 tensors. */
export function torchState(model: TaskModel, keep: (name: string) => boolean = () => true): Map<string, StTensor> {
  const out = new Map<string, StTensor>();
  const all: { name: string; variable: { shape: number[]; dataSync(): unknown }; layout: Layout; torchShape: number[] }[] = [
    ...model.hst.store.entries.values(),
    ...model.heads.params(),
  ];
  for (const e of all) {
    if (!keep(e.name)) continue;
    out.set(e.name, f32Tensor(toTorchValues(e.variable.dataSync() as Float32Array, e.variable.shape, e.layout), e.torchShape));
  }
  return out;
}

/**
 * Assigns a complete PyTorch-layout state to the model (HST + heads). Every name and shape is checked before
 * anything is assigned; errors name the tensor and `source`.
 */
export function loadTorchState(model: TaskModel, tensors: Map<string, StTensor>, source: string): void {
  const all: { name: string; variable: tf.Variable; layout: Layout; torchShape: number[] }[] = [...model.hst.store.entries.values(), ...model.heads.params()];
  const values = new Map<string, Float32Array>();
  for (const e of all) {
    const t = tensors.get(e.name);
    if (!t) throw new Error(`${source}: missing tensor '${e.name}'`);
    if (t.shape.join(',') !== e.torchShape.join(',')) throw new Error(`${source}: tensor '${e.name}' has shape [${t.shape}], the model expects [${e.torchShape}]`);
    const v = toFloat32(t, e.name);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new Error(`${source}: tensor '${e.name}' contains a non-finite value at index ${i}`);
    values.set(e.name, fromTorchValues(v, e.variable.shape, e.layout));
  }
  const known = new Set(all.map((e) => e.name));
  const extra = [...tensors.keys()].filter((n) => !known.has(n));
  if (extra.length) throw new Error(`${source}: ${extra.length} tensor(s) the model does not have: ${extra.slice(0, 6).join(', ')}`);
  for (const e of all) tf.tidy(() => e.variable.assign(tf.tensor(values.get(e.name)!, e.variable.shape, 'float32')));
}
