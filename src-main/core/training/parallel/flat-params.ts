// One flat float32 layout for a list of parameters in a SharedArrayBuffer: the trainer and its gradient helper
// (worker-grad.ts) both see the same memory, so weights go out and gradients come back without a message
// carrying megabytes. The layout is fixed by (name, shape) in the trainer's parameter order; the helper checks
// that its own model has the same names and shapes before it reads anything.
import { tf } from '../../compute/engine';
import { jsMemory } from '../../compute/kernels/kernel-util';

export interface FlatEntry {
  name: string;
  shape: number[];
  /** offset in floats */
  offset: number;
  size: number;
}

export interface FlatLayout {
  entries: FlatEntry[];
  /** total floats */
  size: number;
}

export function flatLayout(params: readonly { name: string; variable: { shape: readonly number[] } }[]): FlatLayout {
  let offset = 0;
  const entries = params.map((p) => {
    const size = p.variable.shape.reduce((a, b) => a * b, 1);
    const e = { name: p.name, shape: [...p.variable.shape], offset, size };
    offset += size;
    return e;
  });
  return { entries, size: offset };
}

/** Room for `n` 4-byte values: shared memory (the helper threads see it) or a plain buffer. */
export function flatBuffer(n: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  return shared ? new SharedArrayBuffer(Math.max(4, n * 4)) : new ArrayBuffer(n * 4);
}

/** A Float32Array over shared memory with room for the layout. */
export function sharedFloats(layout: FlatLayout): Float32Array {
  return new Float32Array(flatBuffer(layout.size, true));
}

/** Reads a tensor's float32 values: views on the backend's memory where it allows (wasm, cpu), else a copy. */
export function readValues(t: tf.Tensor): Float32Array {
  const name = tf.getBackend();
  if (name === 'wasm' || name === 'cpu') return jsMemory(tf.backend(), name).read(t);
  return t.dataSync() as Float32Array;
}

/** Writes the variables' current values into `dst` at their layout offsets. */
export function writeVariables(layout: FlatLayout, vars: readonly tf.Tensor[], dst: Float32Array): void {
  layout.entries.forEach((e, i) => dst.set(readValues(vars[i]), e.offset));
}

/** Assigns each variable its slice of `src` (copied: the shared memory is rewritten next step). */
export function assignVariables(layout: FlatLayout, vars: readonly tf.Variable[], src: Float32Array): void {
  layout.entries.forEach((e, i) => {
    const t = tf.tensor(src.slice(e.offset, e.offset + e.size), e.shape, 'float32');
    vars[i].assign(t);
    t.dispose();
  });
}

/** Checks that `params` match `layout` name for name and shape for shape; the message names the first mismatch. */
export function checkLayout(layout: FlatLayout, params: readonly { name: string; variable: { shape: readonly number[] } }[]): void {
  if (layout.entries.length !== params.length) throw new Error(`gradient helper: the trainer optimises ${layout.entries.length} parameters, the helper's model has ${params.length}`);
  layout.entries.forEach((e, i) => {
    const p = params[i];
    if (p.name !== e.name || p.variable.shape.join(',') !== e.shape.join(',')) {
      throw new Error(`gradient helper: parameter ${i} is ${e.name} [${e.shape}] in the trainer but ${p.name} [${p.variable.shape}] in the helper`);
    }
  });
}
