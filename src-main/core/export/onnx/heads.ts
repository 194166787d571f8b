// ONNX twin of the task heads (heads/*.ts). Filled in per head; heads not yet translated are left out of the
// graph (their outputs are then absent from model.onnx and from its README).
import type { MultiTaskHeads } from '../../heads/multi-task';
import type { OnnxGraph } from './graph';

export interface OnnxHeadOutput {
  name: string;
  tensor: string;
  dims: (number | string)[];
}

export function onnxHeads(_g: OnnxGraph, _heads: MultiTaskHeads, _stages: string[], _shapes: [number, number, number][], _H: number, _W: number): OnnxHeadOutput[] {
  return [];
}
