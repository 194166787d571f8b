// ONNX export: a folder with
//   model.onnx     opset 17 graph of the inference model up to its raw outputs (same names and layouts as the
//                  tfjs export's raw(): NHWC input "image" [batch, S, S, 3], normalised), weights inside
//   metadata.json  as in the tfjs export
//   README.md      inputs, outputs and the post-processing to apply
// The graph is built by walking the model's modules (onnx/vit.ts, onnx/side.ts, onnx/heads.ts are the ONNX twins
// of their forwards), so it is the same computation the studio runs.
import { AtomicOutput, type ExportIo } from './atomic-output';
import type { ExportSource } from './export-source';
import { OnnxGraph } from './onnx/graph';
import { onnxHeads } from './onnx/heads';
import { onnxSide } from './onnx/side';
import { onnxVit } from './onnx/vit';
import { exportMetadata, RAW_OUTPUT_DOCS, tilingNote } from './tfjs-export';

export interface OnnxBuild {
  bytes: Uint8Array;
  outputs: Record<string, string>;
  inputSize: number;
}

/** Builds the ONNX model for a square input of `size` (default: the model's input size). */
export function buildOnnx(src: ExportSource, size = src.spec.inputSize): OnnxBuild {
  const model = src.model;
  const g = new OnnxGraph();
  const img = g.input('image', ['batch', size, size, 3]);
  const vit = onnxVit(g, model.hst, img, size, size);
  const side = onnxSide(g, model.hst, img, size, size, vit);
  const outputs: Record<string, string> = {};
  side.stages.forEach((t, i) => {
    const [h, w, c] = side.shapes[i];
    g.output(t, `stage${i + 1}`, ['batch', h, w, c]);
    outputs[`stage${i + 1}`] = RAW_OUTPUT_DOCS[`stage${i + 1}`];
  });
  for (const o of onnxHeads(g, model.heads, side.stages, side.shapes)) {
    g.output(o.tensor, o.name, o.dims);
    outputs[o.name] = RAW_OUTPUT_DOCS[o.name];
  }
  const bytes = g.encode({
    producer: 'HST Studio',
    version: '1',
    doc: 'HST (frozen ViT + Meta Tokens + hierarchical side network) with task heads, up to raw outputs',
    props: { classes: JSON.stringify(src.spec.classes), input_size: String(size), norm: JSON.stringify(src.spec.norm), tasks: JSON.stringify([...model.heads.tasks]), ...(src.spec.tiles ? { tiles: JSON.stringify(src.spec.tiles) } : {}) },
  });
  return { bytes, outputs, inputSize: size };
}

function readme(b: OnnxBuild, src: ExportSource): string {
  const outs = Object.entries(b.outputs).map(([k, v]) => `- \`${k}\`: ${v}`).join('\n');
  return `# HST Studio model (ONNX, opset 17)

Input \`image\`: float32 NHWC \`[batch, ${b.inputSize}, ${b.inputSize}, 3]\`, RGB, \`(pixel/255 − mean) / std\` with
mean ${JSON.stringify(src.spec.norm.mean)}, std ${JSON.stringify(src.spec.norm.std)} (see metadata.json). Letterbox the image
to ${b.inputSize}×${b.inputSize} (uniform scale to fit, centred) and map results back with the same transform
(input = original · scale + pad; the studio's letterboxTransform/boxToOriginal, also in the tfjs export's inference.mjs).

Outputs (raw, before post-processing):
${outs}

## Post-processing (what the studio does)
- Detection (FCOS): locations are the cells of the detection levels (strides ${JSON.stringify(src.model.settings.detStrides)}), finest first,
  row-major; a cell (row i, col j) of stride s sits at x = (j + 0.5)·s, y = (i + 0.5)·s. score = √(σ(det_cls) · σ(det_ctr));
  keep score classes with σ(det_cls) ≥ 0.05, the best 1000, box = (x − l, y − t, x + r, y + b) clipped to the input,
  class-wise NMS at IoU 0.6, top 100, then apply metadata.scoreThreshold.
- Instance masks (CondInst, mask stride m): for a kept detection at location n (x, y, level stride s), the input of
  its dynamic network at mask cell (i, j) is [(x − px)/(8s), (y − py)/(8s), mask_feats[i, j, :]] with
  px = j·m + ⌊m/2⌋, py = i·m + ⌊m/2⌋. mask_params[n] = [W0 (8×(C+2), out-major), W1 (8×8), W2 (1×8), b0 (8), b1 (8), b2 (1)];
  logits = W2·relu(W1·relu(W0·v + b0) + b1) + b2 per cell; upsample bilinearly (half-pixel) by m, crop to the
  input, mask = logits > 0 (σ > 0.5).
- Semantic: upsample sem_logits bilinearly (half-pixel) to the input size, argmax; 0 = background, k+1 = class k.
- Classification: softmax(cls_logits).

Run with onnxruntime:
\`\`\`js
import ort from 'onnxruntime-node';
const s = await ort.InferenceSession.create('model.onnx');
const out = await s.run({ image: new ort.Tensor('float32', pixels, [1, ${b.inputSize}, ${b.inputSize}, 3]) });
\`\`\`
${tilingNote(src.spec)}`;
}

export async function exportOnnx(src: ExportSource, out: string, io: ExportIo = {}): Promise<{ dir: string; bytes: number }> {
  const bytes = await AtomicOutput.run(out, 'dir', io, async (o) => {
    o.progress(0, 'building the ONNX graph');
    const b = buildOnnx(src);
    o.checkCancel();
    await o.write('model.onnx', b.bytes);
    await o.write('metadata.json', JSON.stringify(exportMetadata(src, b.outputs), null, 1));
    await o.write('README.md', readme(b, src));
    o.progress(1, 'done');
    return o.bytes;
  });
  return { dir: out, bytes };
}
