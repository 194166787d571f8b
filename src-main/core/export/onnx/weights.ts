// tfjs variables → ONNX initializers (linear weights stay [in, out] for MatMul; conv kernels go to (out,in,kh,kw)).
import { tf } from '../../compute/engine';
import type { OnnxGraph } from './graph';

export function w(g: OnnxGraph, name: string, v: tf.Tensor): string {
  return g.weight(name, Float32Array.from(v.dataSync() as Float32Array), [...v.shape]);
}

export function convW(g: OnnxGraph, name: string, v: tf.Tensor): string {
  const t = tf.transpose(v, [3, 2, 0, 1]);
  const r = g.weight(name, Float32Array.from(t.dataSync() as Float32Array), [...t.shape]);
  t.dispose();
  return r;
}
