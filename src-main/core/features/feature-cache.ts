// Disk cache of the frozen ViT pass for fast incremental mode (spec §8). For each (image hash, backbone,
// input size, frozen-params version, flip) it stores every layer's Meta Token output and patch tokens as
// float16 in one safetensors file under <project>/cache/features/, indexed by the store's feature_cache table
// and trimmed least-recently-used first to a byte budget (project setting `features.cacheBytes`).
//
// The store's index key has no flip field, so a flipped variant is stored under params version `<v>:flip`.
// A missing or unreadable file is a cache miss (its row is dropped), never an error: the cache can always be
// rebuilt from the images.
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readyForSyncRead, tf } from '../compute/engine';
import type { HstModel, VitOutput } from '../model/hst';
import { readSafetensors, writeSafetensors, type StTensor } from '../io/safetensors';
import { projectPaths } from '../paths';
import type { FeatureCacheIndex, FeatureKey } from '../store/feature-cache';
import { f16ToF32, f32ToF16 } from './f16';
import { OnnxVitPass } from './onnx-vit';
import type { CachedFeatures, HalfFeatures, VitArrays } from './types';

export type { CachedFeatures, VitArrays } from './types';

export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;
export const CACHE_BYTES_SETTING = 'features.cacheBytes';

export interface FeatureCacheOptions {
  /** project folder and its feature index (a FullProjectStore has both) */
  store: { dir: string; featureCache: FeatureCacheIndex; settings?(): Record<string, unknown> };
  /** backbone identity, e.g. 'vit-tiny-16' or a checkpoint's sha256 */
  backbone: string;
  /** square network input side */
  size: number;
  /** frozenParamsVersion() of the model whose ViT pass is cached */
  paramsVersion: string;
  /** disk budget; default: the project setting `features.cacheBytes`, else 2 GiB */
  maxBytes?: number;
  /** decoded entries kept in memory (bytes of float16 data; default 256 MiB) */
  memoryBytes?: number;
}

export interface FeatureSource {
  imageHash: string;
  flipped: boolean;
  /** the network input, normalised, [height, width, 3] row-major */
  image: Float32Array;
  height: number;
  width: number;
}

const safeName = (s: string, max = 80) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, max);

export class FeatureCache {
  readonly maxBytes: number;
  private readonly memoryBytes: number;
  private readonly memory = new Map<string, { meta: Uint16Array; patches: Uint16Array; shape: [number, number, number, number] }>();
  private memoryUsed = 0;
  /** what computed the last ensure()'s missing entries (shown to the user; tests check the fast path ran) */
  filledWith: 'onnxruntime' | 'tfjs' | null = null;

  constructor(readonly opts: FeatureCacheOptions) {
    const setting = Number(opts.store.settings?.()[CACHE_BYTES_SETTING]);
    this.maxBytes = opts.maxBytes ?? (Number.isFinite(setting) && setting >= 0 ? setting : DEFAULT_CACHE_BYTES);
    this.memoryBytes = opts.memoryBytes ?? 256 * 1024 ** 2;
  }

  key(imageHash: string, flipped: boolean): FeatureKey {
    return { imageHash, backbone: this.opts.backbone, size: this.opts.size, paramsVersion: flipped ? `${this.opts.paramsVersion}:flip` : this.opts.paramsVersion };
  }

  private relPath(imageHash: string, flipped: boolean): string {
    const abs = join(
      projectPaths(this.opts.store.dir).features,
      safeName(this.opts.paramsVersion.slice(0, 16)),
      safeName(imageHash.slice(0, 2)),
      // a tile's key is the photo's sha256 and its rectangle (training/tile-dataset.ts tileHash): up to ~85
      // characters, all of which tell tiles apart
      `${safeName(imageHash, 128)}-${safeName(this.opts.backbone)}-${this.opts.size}${flipped ? '-flip' : ''}.safetensors`,
    );
    return relative(this.opts.store.dir, abs);
  }

  private memKey = (imageHash: string, flipped: boolean) => `${imageHash}|${flipped ? 1 : 0}`;

  /** Whether an entry exists (index row and file); does not read it. */
  has(imageHash: string, flipped = false): boolean {
    if (this.memory.has(this.memKey(imageHash, flipped))) return true;
    const e = this.opts.store.featureCache.get(this.key(imageHash, flipped));
    return !!e && existsSync(join(this.opts.store.dir, e.path));
  }

  /** The cached ViT pass of one image, or null (miss, or an unreadable file, whose row is then dropped). */
  async get(imageHash: string, flipped = false): Promise<CachedFeatures | null> {
    const mk = this.memKey(imageHash, flipped);
    let hit = this.memory.get(mk);
    if (hit) {
      this.memory.delete(mk);
      this.memory.set(mk, hit);
    } else {
      const k = this.key(imageHash, flipped);
      const e = this.opts.store.featureCache.get(k);
      if (!e) return null;
      try {
        const f = await readSafetensors(join(this.opts.store.dir, e.path));
        const meta = f.tensors.get('meta');
        const patches = f.tensors.get('patches');
        if (!meta || !patches || meta.dtype !== 'F16' || patches.dtype !== 'F16' || patches.shape.length !== 4 || meta.shape.length !== 2) {
          throw new Error('not a feature-cache file');
        }
        const [depth, h, w, dim] = patches.shape as [number, number, number, number];
        if (meta.shape[0] !== depth || meta.shape[1] !== dim) throw new Error('meta/patches shapes disagree');
        hit = { meta: u16(meta), patches: u16(patches), shape: [depth, h, w, dim] };
        this.remember(mk, hit);
      } catch {
        this.opts.store.featureCache.delete(k);
        return null;
      }
    }
    const [depth, h, w, dim] = hit.shape;
    return { depth, h, w, dim, meta: f16ToF32(hit.meta), patches: f16ToF32(hit.patches) };
  }

  /** Stores one image's ViT pass (float32 in, float16 on disk), then trims the cache to its budget. */
  async put(imageHash: string, flipped: boolean, f: CachedFeatures): Promise<void> {
    this.checkSizes(imageHash, f);
    await this.putHalf(imageHash, flipped, { ...f, meta: f32ToF16(f.meta), patches: f32ToF16(f.patches) });
  }

  private checkSizes(imageHash: string, f: { depth: number; h: number; w: number; dim: number; meta: ArrayLike<number>; patches: ArrayLike<number> }): void {
    if (f.meta.length !== f.depth * f.dim || f.patches.length !== f.depth * f.h * f.w * f.dim) {
      throw new Error(`feature cache: features of image ${imageHash} have inconsistent sizes`);
    }
  }

  /** `put` with the features already float16 (onnxruntime's pass converts them natively). */
  async putHalf(imageHash: string, flipped: boolean, f: HalfFeatures): Promise<void> {
    this.checkSizes(imageHash, f);
    const { meta, patches } = f;
    const rel = this.relPath(imageHash, flipped);
    const abs = join(this.opts.store.dir, rel);
    await mkdir(join(abs, '..'), { recursive: true });
    const tensors: Record<string, StTensor> = {
      meta: { dtype: 'F16', shape: [f.depth, f.dim], data: bytes(meta) },
      patches: { dtype: 'F16', shape: [f.depth, f.h, f.w, f.dim], data: bytes(patches) },
    };
    await writeSafetensors(abs, tensors, {
      kind: 'hst-vit-features', image: imageHash, backbone: this.opts.backbone, size: String(this.opts.size),
      params_version: this.opts.paramsVersion, flipped: String(flipped),
    });
    const index = this.opts.store.featureCache;
    index.put({ ...this.key(imageHash, flipped), path: rel, bytes: statSync(abs).size });
    this.remember(this.memKey(imageHash, flipped), { meta, patches, shape: [f.depth, f.h, f.w, f.dim] });
    if (index.stats().bytes > this.maxBytes) {
      index.evict(this.maxBytes);
      // entries evicted on disk must not linger in memory as hits
      for (const k of [...this.memory.keys()]) {
        const [hash, fl] = k.split('|');
        if (!index.get(this.key(hash, fl === '1'))) this.forget(k);
      }
    }
  }

  private remember(k: string, v: { meta: Uint16Array; patches: Uint16Array; shape: [number, number, number, number] }): void {
    this.forget(k);
    this.memory.set(k, v);
    this.memoryUsed += v.meta.byteLength + v.patches.byteLength;
    for (const old of this.memory.keys()) {
      if (this.memoryUsed <= this.memoryBytes) break;
      this.forget(old);
    }
  }

  private forget(k: string): void {
    const v = this.memory.get(k);
    if (!v) return;
    this.memoryUsed -= v.meta.byteLength + v.patches.byteLength;
    this.memory.delete(k);
  }

  /**
   * Makes sure every source has an entry, computing the missing ones with `hst`'s ViT pass (eval mode) in
   * batches. Returns how many were computed.
   */
  async ensure(hst: HstModel, sources: readonly FeatureSource[], opts: { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<number> {
    const seen = new Set<string>();
    const missing = sources.filter((s) => {
      const k = this.memKey(s.imageHash, s.flipped);
      if (seen.has(k)) return false;
      seen.add(k);
      return !this.has(s.imageHash, s.flipped);
    });
    const bs = Math.max(1, opts.batchSize ?? 4);
    // a big fill goes through onnxruntime when it is installed (several times faster); a few entries are not
    // worth building its session
    // (a session built already, e.g. for the earlier chunks of the same fill, serves the last few entries too)
    const onnx = missing.length >= ONNX_MIN_ENTRIES || hasOnnxPass(this.opts.paramsVersion, this.opts.size) ? await onnxPassFor(hst, this.opts.paramsVersion, this.opts.size) : null;
    if (missing.length > 0) this.filledWith = onnx ? 'onnxruntime' : 'tfjs';
    for (let i = 0; i < missing.length; i += bs) {
      if (opts.signal?.aborted) throw new Error('feature caching cancelled');
      const batch = missing.slice(i, i + bs);
      if (onnx) {
        const feats = await onnx.runHalf(batch);
        for (let j = 0; j < batch.length; j++) await this.putHalf(batch[j].imageHash, batch[j].flipped, feats[j]);
      } else {
        const feats = await computeFeaturesAsync(hst, batch);
        for (let j = 0; j < batch.length; j++) await this.put(batch[j].imageHash, batch[j].flipped, feats[j]);
      }
      opts.onProgress?.(Math.min(i + bs, missing.length), missing.length);
      await new Promise((r) => setImmediate(r));
    }
    return missing.length;
  }
}

const ONNX_MIN_ENTRIES = 16;
const onnxSessions = new Map<string, Promise<OnnxVitPass | null>>();

const onnxProvider = () => (process.env.HST_ONNX_VIT === 'webgpu' ? 'webgpu' : 'cpu');
/** whether onnxPassFor has a session (or one being built) for these parameters and size */
function hasOnnxPass(paramsVersion: string, size: number): boolean {
  return process.env.HST_ONNX_VIT !== '0' && onnxSessions.has(`${paramsVersion}|${size}|${onnxProvider()}`);
}

/**
 * The onnxruntime ViT pass for these frozen parameters and input size (one session per pair, the last two
 * kept), or null without onnxruntime-node or with HST_ONNX_VIT=0.
 */
function onnxPassFor(hst: HstModel, paramsVersion: string, size: number): Promise<OnnxVitPass | null> {
  const env = process.env.HST_ONNX_VIT;
  if (env === '0') return Promise.resolve(null);
  // On the GPU (webgpu backend) the tfjs pass stays on the GPU; HST_ONNX_VIT=webgpu uses onnxruntime's WebGPU
  // provider instead (bench/gpu.ts measures both), on any backend.
  const provider = onnxProvider();
  if (tf.getBackend() === 'webgpu' && provider !== 'webgpu') return Promise.resolve(null);
  const key = `${paramsVersion}|${size}|${provider}`;
  let p = onnxSessions.get(key);
  if (!p) {
    p = OnnxVitPass.create(hst, size, 0, provider);
    onnxSessions.set(key, p);
    while (onnxSessions.size > 2) {
      const [oldKey, old] = onnxSessions.entries().next().value!;
      onnxSessions.delete(oldKey);
      void old.then((s) => s?.dispose());
    }
  }
  return p;
}

type VitInputs = readonly { image: Float32Array; height: number; width: number }[];

/** computeFeatures on any backend: webgpu reads its outputs back asynchronously first. */
export async function computeFeaturesAsync(hst: HstModel, inputs: VitInputs): Promise<CachedFeatures[]> {
  if (tf.getBackend() !== 'webgpu') return computeFeatures(hst, inputs);
  await readyForSyncRead([hst.vit.posEmbed]);
  const out = vitLayers(hst, inputs);
  await readyForSyncRead(out);
  return splitFeatures(out, hst.config.depth, inputs.length);
}

/** The ViT pass (eval mode) of a batch of network inputs of one size, split per image. */
export function computeFeatures(hst: HstModel, inputs: VitInputs): CachedFeatures[] {
  return splitFeatures(vitLayers(hst, inputs), hst.config.depth, inputs.length);
}

/** Every layer's Meta Token output, then every layer's patch tokens (tensors the caller disposes). */
function vitLayers(hst: HstModel, inputs: VitInputs): tf.Tensor[] {
  const H = inputs[0].height;
  const W = inputs[0].width;
  const buf = new Float32Array(inputs.length * H * W * 3);
  inputs.forEach((s, i) => {
    if (s.height !== H || s.width !== W) throw new Error(`feature cache: a batch mixes input sizes ${H}×${W} and ${s.height}×${s.width}`);
    buf.set(s.image, i * H * W * 3);
  });
  // read back outside the tidy: a tidy that returns typed arrays walks every element looking for tensors
  return tf.tidy(() => {
    const o = hst.vitForward(tf.tensor4d(buf, [inputs.length, H, W, 3]), { training: false });
    return [...o.metaOut, ...o.patches];
  });
}

function splitFeatures(out: tf.Tensor[], depth: number, batch: number): CachedFeatures[] {
  const layers = {
    meta: out.slice(0, depth).map((m) => m.dataSync() as Float32Array),
    patches: out.slice(depth).map((p) => p.dataSync() as Float32Array),
    shape: out[depth].shape as [number, number, number, number],
  };
  tf.dispose(out);
  const [, h, w, dim] = layers.shape;
  const per = h * w * dim;
  return Array.from({ length: batch }, (_, b) => {
    const meta = new Float32Array(depth * dim);
    const patches = new Float32Array(depth * per);
    for (let l = 0; l < depth; l++) {
      meta.set(layers.meta[l].subarray(b * dim, (b + 1) * dim), l * dim);
      patches.set(layers.patches[l].subarray(b * per, (b + 1) * per), l * per);
    }
    return { depth, h, w, dim, meta, patches };
  });
}

/** Cached features of a batch as per-layer arrays (what a gradient helper thread is sent). */
export function toVitArrays(list: readonly CachedFeatures[]): VitArrays {
  const { depth, h, w, dim } = list[0];
  for (const f of list) {
    if (f.depth !== depth || f.h !== h || f.w !== w || f.dim !== dim) throw new Error('feature cache: a batch mixes feature shapes');
  }
  const B = list.length;
  const per = h * w * dim;
  const out: VitArrays = { metaOut: [], patches: [] };
  for (let l = 0; l < depth; l++) {
    const m = new Float32Array(B * dim);
    const p = new Float32Array(B * per);
    list.forEach((f, b) => {
      m.set(f.meta.subarray(l * dim, (l + 1) * dim), b * dim);
      p.set(f.patches.subarray(l * per, (l + 1) * per), b * per);
    });
    out.metaOut.push({ shape: [B, 1, dim], data: m });
    out.patches.push({ shape: [B, h, w, dim], data: p });
  }
  return out;
}

/** A batch's ViT pass as the VitOutput sideForward expects (tensors owned by the caller / tidy). */
export function vitOutputOf(a: VitArrays): VitOutput {
  return {
    metaOut: a.metaOut.map((x) => tf.tensor3d(x.data, x.shape as [number, number, number])),
    patches: a.patches.map((x) => tf.tensor4d(x.data, x.shape as [number, number, number, number])),
  };
}

/** Cached features of a batch as the VitOutput sideForward expects (tensors owned by the caller / tidy). */
export function toVitOutput(list: readonly CachedFeatures[]): VitOutput {
  return vitOutputOf(toVitArrays(list));
}

function bytes(a: Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function u16(t: StTensor): Uint16Array {
  const d = t.data;
  // the data section need not be 2-byte aligned within the file buffer
  if (d.byteOffset % 2 === 0) return new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2).slice();
  return new Uint16Array(d.slice().buffer);
}
