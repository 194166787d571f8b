// tfjs variables → ONNX initializers (linear weights stay [in, out] for MatMul; conv kernels go to (out,in,kh,kw),
// permuted in JS: exact, and fast on every backend).
import type { tf } from '../../compute/engine';
import { toTorchValues } from '../torch-state';
import type { OnnxGraph } from './graph';

export function w(g: OnnxGraph, name: string, v: tf.Tensor): string {
  return g.weight(name, Float32Array.from(v.dataSync() as Float32Array), [...v.shape]);
}

export function convW(g: OnnxGraph, name: string, v: tf.Tensor): string {
  const [kh, kw, ci, co] = v.shape;
  return g.weight(name, toTorchValues(Float32Array.from(v.dataSync() as Float32Array), v.shape, 'conv'), [co, ci, kh, kw]);
}
