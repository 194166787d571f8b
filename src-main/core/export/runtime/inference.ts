// The standalone inference module of a tfjs export. It is bundled at export time (tfjs-bundle.ts) from the
// studio's own model and head code into one `inference.mjs` that imports only `@tensorflow/tfjs-core`, so the
// exported model runs the exact forward pass the studio runs. Works in Node and in browsers (register a backend
// first, e.g. `import '@tensorflow/tfjs-backend-cpu'` or webgl/wasm).
//
//   const m = await loadHstModel('path/or/url/to/export-folder');
//   const x = m.toInput(rgbBytes, height, width);      // [1, H, W, 3] normalised (H, W = metadata.inputSize)
//   const raw = m.raw(x);                               // named raw tensors (see metadata.outputs)
//   const preds = await m.predict(x, { scoreThreshold: 0.3 });   // boxes (input pixels), masks, class maps, probs
import { tf } from '../../compute/engine';
import { resolveHstConfig } from '../../model/config';
import { HstModel } from '../../model/hst';
import { MultiTaskHeads, type ImagePrediction } from '../../heads/multi-task';
import type { HeadSettings } from '../../task-model/task-model';
import { headOptions } from './head-options';
import { rawOutputs } from './raw-outputs';

export { tf };
// the studio's letterbox geometry: fit an image into the input square and map predictions back to it
export { letterboxTransform, boxToOriginal, maskToOriginal } from '../../data/letterbox';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface ModelJson {
  format: string;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  hst: { config: Record<string, unknown>; heads: HeadSettings | null; seed: number };
}

export interface ExportMetadata {
  classes: { name: string; color: string }[];
  inputSize: number;
  /** trained on tiles of large photos: cut each photo into tiles of `size` px overlapping by `overlap` (README) */
  tiles?: { size: number; overlap: number } | null;
  norm: { mean: number[]; std: number[] };
  tasks: string[];
  scoreThreshold: number;
  [k: string]: unknown;
}

export class HstInference {
  constructor(
    readonly hst: HstModel,
    readonly heads: MultiTaskHeads | null,
    readonly metadata: ExportMetadata,
  ) {}

  /** RGB or RGBA bytes (row-major, height×width) → normalised [1, H, W, 3] (no resizing: give the input size). */
  toInput(pixels: ArrayLike<number>, height: number, width: number, channels: 3 | 4 = 3): tf.Tensor4D {
    const { mean, std } = this.metadata.norm;
    const out = new Float32Array(height * width * 3);
    for (let i = 0; i < height * width; i++) {
      for (let c = 0; c < 3; c++) out[i * 3 + c] = (pixels[i * channels + c] / 255 - mean[c]) / std[c];
    }
    return tf.tensor4d(out, [1, height, width, 3]);
  }

  /** Named raw outputs (caller disposes). */
  raw(x: tf.Tensor4D): Record<string, tf.Tensor> {
    return rawOutputs(this.hst, this.heads, x);
  }

  /** Decoded predictions per image in network-input pixels. */
  async predict(x: tf.Tensor4D, opts: { scoreThreshold?: number; maxDetections?: number } = {}): Promise<ImagePrediction[]> {
    if (!this.heads) throw new Error('this export has no task heads');
    const stages = tf.tidy(() => this.hst.forward(x, { training: false }).stages);
    try {
      return await this.heads.predict(stages, {
        imageSize: [x.shape[1], x.shape[2]],
        scoreThreshold: opts.scoreThreshold ?? this.metadata.scoreThreshold,
        maxDetections: opts.maxDetections ?? 100,
      });
    } finally {
      tf.dispose(stages);
    }
  }

  dispose(): void {
    this.heads?.dispose();
    this.hst.dispose();
  }
}

/** Builds the model from a parsed model.json, its metadata and the shard bytes (in manifest order). */
export function buildFromArtifacts(modelJson: ModelJson, metadata: ExportMetadata, shards: ArrayBuffer[][]): HstInference {
  const cfg = resolveHstConfig({ ...modelJson.hst.config, num_classes: 0 }, 'model.json hst.config');
  const hst = new HstModel(cfg, { backbone: 'pending', seed: modelJson.hst.seed });
  const heads = modelJson.hst.heads ? new MultiTaskHeads(headOptions(cfg.m_embed_dims, modelJson.hst.heads, modelJson.hst.seed)) : null;
  const vars = new Map<string, tf.Variable>();
  for (const e of hst.store.entries.values()) vars.set(e.name, e.variable);
  for (const p of heads?.params() ?? []) vars.set(p.name, p.variable);
  const seen = new Set<string>();
  modelJson.weightsManifest.forEach((group, gi) => {
    const parts = shards[gi];
    const total = parts.reduce((a, b) => a + b.byteLength, 0);
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      bytes.set(new Uint8Array(p), o);
      o += p.byteLength;
    }
    let off = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new Error(`weight ${w.name}: dtype ${w.dtype} is not supported`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > total) throw new Error(`weight ${w.name}: the shards end before its data (truncated download?)`);
      const v = vars.get(w.name);
      if (!v) throw new Error(`weight ${w.name} does not belong to this model (model.json and the code disagree)`);
      if (v.shape.join(',') !== w.shape.join(',')) throw new Error(`weight ${w.name}: shape [${w.shape}] but the model has [${v.shape}]`);
      const values = new Float32Array(bytes.buffer.slice(off, off + 4 * n));
      tf.tidy(() => v.assign(tf.tensor(values, w.shape, 'float32')));
      seen.add(w.name);
      off += 4 * n;
    }
  });
  const missing = [...vars.keys()].filter((n) => !seen.has(n));
  if (missing.length) throw new Error(`model.json lacks ${missing.length} weight(s): ${missing.slice(0, 5).join(', ')}`);
  hst.backboneSource = { kind: 'checkpoint', file: 'model.json' };
  return new HstInference(hst, heads, metadata);
}

async function readText(base: string, name: string): Promise<string> {
  if (/^(https?|blob|data):/.test(base)) {
    const r = await fetch(new URL(name, base.endsWith('/') ? base : base + '/'));
    if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
    return r.text();
  }
  const fs = await import('node:fs/promises');
  return fs.readFile(`${base}/${name}`, 'utf8');
}

async function readBytes(base: string, name: string): Promise<ArrayBuffer> {
  if (/^(https?|blob|data):/.test(base)) {
    const r = await fetch(new URL(name, base.endsWith('/') ? base : base + '/'));
    if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
    return r.arrayBuffer();
  }
  const fs = await import('node:fs/promises');
  const b = await fs.readFile(`${base}/${name}`);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Loads an export folder: a file-system path (Node) or a URL (browser/Node fetch). */
export async function loadHstModel(base: string): Promise<HstInference> {
  const modelJson = JSON.parse(await readText(base, 'model.json')) as ModelJson;
  const metadata = JSON.parse(await readText(base, 'metadata.json')) as ExportMetadata;
  const shards = await Promise.all(modelJson.weightsManifest.map((g) => Promise.all(g.paths.map((p) => readBytes(base, p)))));
  return buildFromArtifacts(modelJson, metadata, shards);
}
