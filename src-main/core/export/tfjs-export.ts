// tfjs export: a folder with
//   model.json       the tfjs weights manifest ({weightsManifest: [{paths, weights: [{name, shape, dtype}]}]}) +
//                    the HST config and head settings; weight names are the PyTorch state_dict names, values in
//                    the tfjs (channels-last) layout the runtime uses
//   group1-shardKofN.bin   float32 little-endian, ≤ 4 MB each (tensors may span shards, as in tfjs)
//   metadata.json    classes, colours, input size, normalisation, tasks, score threshold, backbone, metrics
//   inference.mjs    the studio's forward pass bundled into one ES module (imports only @tensorflow/tfjs-core)
//   README.md        how to run it
import { configToJson } from '../model/weights';
import { AtomicOutput, type ExportIo } from './atomic-output';
import { sourceClasses, type ExportSource } from './export-source';
import type { ModelJson, WeightSpec } from './runtime/inference';
import { bundleRuntime } from './tfjs-bundle';

export const SHARD_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SCORE_THRESHOLD = 0.3;

export function exportMetadata(src: ExportSource, outputs: Record<string, string>): Record<string, unknown> {
  const s = src.spec;
  const b = src.model.hst.backboneSource;
  return {
    format: 'hst-studio-export',
    version: 1,
    model: src.version ?? null,
    classes: sourceClasses(src),
    inputSize: s.inputSize,
    // trained on tiles of large photos: a runtime must cut each photo the same way (see tilingNote)
    tiles: s.tiles ?? null,
    inputLayout: 'NHWC float32 [B, H, W, 3], RGB, (pixel/255 − mean) / std; H and W multiples of the patch size',
    norm: s.norm,
    tasks: src.model.heads ? [...src.model.heads.tasks] : [],
    scoreThreshold: DEFAULT_SCORE_THRESHOLD,
    backbone: b.kind === 'pretrained' ? { id: b.name, sha256: b.sha256 ?? src.backboneSha256 ?? null } : b,
    metrics: src.metrics ?? {},
    outputs,
    exportedAt: new Date().toISOString(),
  };
}

/** README paragraph for a model trained on tiles (empty otherwise): how to cut a photo and merge the tiles. */
export function tilingNote(spec: ExportSource['spec']): string {
  const t = spec.tiles;
  if (!t) return '';
  return `
## Tiles: this model was trained on tiles of large photos

\`metadata.tiles\` = \`${JSON.stringify(t)}\`: cut each photo (EXIF-oriented) into ${t.size}×${t.size} tiles overlapping by
${t.overlap} px (per axis n = ⌈(L − ${t.overlap}) / ${t.size - t.overlap}⌉ tiles, the i-th starting at round(i·(L − ${t.size}) / (n − 1)); a side
not longer than ${t.size} is one tile of its length), run the model on each tile as if it were the image (letterbox
to the input size), add the tile's offset to its boxes and masks, and merge: class-wise NMS at IoU 0.5 in photo
pixels; for semantic maps take each pixel from the tile in which it is farthest from a cut edge. Running the
model on the whole photo instead shrinks its objects far below the size it learnt.
`;
}

export const RAW_OUTPUT_DOCS: Record<string, string> = {
  stage1: '[B, H/4, W/4, C1] HST pyramid level (stride 4)',
  stage2: '[B, H/8, W/8, C2] stride 8',
  stage3: '[B, H/16, W/16, C3] stride 16',
  stage4: '[B, H/32, W/32, C4] stride 32',
  det_cls: '[B, N, K] FCOS class logits over all locations of the detection levels (finest level first, row-major)',
  det_box: '[B, N, 4] distances l, t, r, b in input pixels from each location (x = (col+0.5)·stride)',
  det_ctr: '[B, N] centerness logits',
  mask_feats: '[B, H/s, W/s, 8] CondInst mask features (s = mask stride)',
  mask_params: '[B, N, P] CondInst dynamic mask-head parameters per location',
  sem_logits: '[B, H/4, W/4, K+1] semantic logits (class 0 = background); upsample bilinearly, argmax',
  cls_logits: '[B, K] image classification logits; softmax',
};

/** Every weight of the model (HST + heads) as [name, tfjs-layout values, shape]. */
export function modelWeights(src: ExportSource): { name: string; shape: number[]; values: () => Float32Array }[] {
  const out: { name: string; shape: number[]; values: () => Float32Array }[] = [];
  for (const e of src.model.hst.store.entries.values()) out.push({ name: e.name, shape: [...e.variable.shape], values: () => e.variable.dataSync() as Float32Array });
  for (const p of src.model.heads.params()) out.push({ name: p.name, shape: [...p.variable.shape], values: () => p.variable.dataSync() as Float32Array });
  return out;
}

function readme(outputs: string[], spec: ExportSource['spec']): string {
  return `# HST Studio model (TensorFlow.js)

Files: \`model.json\` (tfjs weights manifest + config), \`group1-shard*.bin\` (float32 weights), \`metadata.json\`
(classes, colours, input size, normalisation, tasks, score threshold, backbone, metrics) and \`inference.mjs\`
(the studio's own forward pass as one ES module; it imports only \`@tensorflow/tfjs-core\`).

## Node

\`\`\`sh
npm install @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu   # or -backend-wasm / tfjs-node
\`\`\`

\`\`\`js
import '@tensorflow/tfjs-backend-cpu';
import { loadHstModel, tf } from './inference.mjs';

await tf.setBackend('cpu');
const model = await loadHstModel('/path/to/this/folder');
const { inputSize } = model.metadata;                 // letterbox your image to inputSize × inputSize first:
// t = letterboxTransform(w, h, { width: inputSize, height: inputSize }) gives scale/padX/padY (centred);
// boxToOriginal(box, t) and maskToOriginal(mask, inputSize, inputSize, t) map predictions back (also exported)
const x = model.toInput(rgbBytes, inputSize, inputSize); // RGB (or RGBA with channels = 4) bytes → normalised tensor
const [pred] = await model.predict(x);               // { detections?, masks?, semantic?, classProbs? }
// detections: boxes [x1,y1,x2,y2]* in input pixels, scores, labels (index into metadata.classes)
const raw = model.raw(x);                             // raw tensors: ${outputs.join(', ')}
\`\`\`

## Browser

Serve this folder, \`import '@tensorflow/tfjs-backend-webgl'\` (or wasm/cpu) and call \`loadHstModel('https://host/folder/')\`.
${tilingNote(spec)}`;
}

export async function exportTfjs(src: ExportSource, out: string, io: ExportIo = {}, opts: { shardBytes?: number } = {}): Promise<{ dir: string; shards: number; bytes: number }> {
  const shardBytes = opts.shardBytes ?? SHARD_BYTES;
  let shards = 0;
  const bytes = await AtomicOutput.run(out, 'dir', io, async (o) => {
    const code = await bundleRuntime();
    const weights = modelWeights(src);
    const total = weights.reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
    const nShards = Math.max(1, Math.ceil(total / shardBytes));
    const paths = Array.from({ length: nShards }, (_, i) => `group1-shard${i + 1}of${nShards}.bin`);
    // Stream tensors into fixed-size shards; a tensor may continue in the next shard (tfjs concatenates a group).
    let buf = new Uint8Array(Math.min(shardBytes, total));
    let fill = 0;
    let written = 0;
    const flush = async () => {
      await o.write(paths[shards++], buf.subarray(0, fill));
      written += fill;
      o.progress(0.05 + 0.9 * (written / total), 'writing weights');
      buf = new Uint8Array(Math.min(shardBytes, total - written));
      fill = 0;
    };
    const specs: WeightSpec[] = [];
    for (const w of weights) {
      o.checkCancel();
      specs.push({ name: w.name, shape: w.shape, dtype: 'float32' });
      const v = w.values();
      const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      let i = 0;
      while (i < b.length) {
        const n = Math.min(b.length - i, buf.length - fill);
        buf.set(b.subarray(i, i + n), fill);
        fill += n;
        i += n;
        if (fill === buf.length && written + fill < total) await flush();
      }
    }
    if (fill > 0) await flush();
    if (shards !== nShards) throw new Error(`internal: wrote ${shards} shards, planned ${nShards}`);
    const outputs = Object.fromEntries(Object.entries(RAW_OUTPUT_DOCS).filter(([k]) => hasOutput(src, k)));
    const modelJson: ModelJson & Record<string, unknown> = {
      format: 'hst-studio-tfjs',
      generatedBy: 'HST Studio',
      weightsManifest: [{ paths, weights: specs }],
      hst: { config: configToJson(src.model.hst.config), heads: src.model.settings, seed: src.spec.seed },
    };
    await o.write('model.json', JSON.stringify(modelJson));
    await o.write('metadata.json', JSON.stringify(exportMetadata(src, outputs), null, 1));
    await o.write('inference.mjs', code);
    await o.write('README.md', readme(Object.keys(outputs), src.spec));
    o.progress(1, 'done');
    return o.bytes;
  });
  return { dir: out, shards, bytes };
}

/** Whether the model produces a given raw output. */
export function hasOutput(src: ExportSource, name: string): boolean {
  const h = src.model.heads;
  if (name.startsWith('stage')) return true;
  if (name.startsWith('det_')) return !!h.det;
  if (name.startsWith('mask_')) return !!h.mask;
  if (name === 'sem_logits') return !!h.sem;
  if (name === 'cls_logits') return !!h.cls;
  return false;
}
