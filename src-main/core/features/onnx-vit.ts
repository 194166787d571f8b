// The frozen ViT pass through onnxruntime-node, when it is installed: filling the feature cache is pure
// inference over a frozen network, and onnxruntime's native CPU kernels run it several times faster than tfjs
// on wasm (docs/compute.md). The graph is the ONNX export's own ViT twin (export/onnx/vit.ts), so the numbers
// are the studio's ViT pass up to float rounding (~1e-6, far below the cache's float16 storage error).
// Without onnxruntime-node — or if its session cannot be built — callers fall back to the tfjs pass.
import { createRequire } from 'node:module';
import { readyForSyncRead } from '../compute/engine';
import { OnnxGraph } from '../export/onnx/graph';
import { DT } from '../export/onnx/proto';
import { onnxVit } from '../export/onnx/vit';
import type { HstModel } from '../model/hst';
import type { CachedFeatures, HalfFeatures } from './types';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

let ortModule: Ort | null | undefined;

/** onnxruntime-node, or null when it is not installed / does not load on this machine. */
export function loadOnnxRuntime(): Ort | null {
  if (ortModule !== undefined) return ortModule;
  try {
    ortModule = createRequire(import.meta.url)('onnxruntime-node') as Ort;
  } catch {
    ortModule = null;
  }
  return ortModule;
}

/**
 * The ViT pass as an ONNX graph. Outputs image-major so that one image's features are one contiguous run of
 * each: meta [B, depth, D] and patches [B, depth, N, D] (the cache's [depth, h, w, D] per image), in float32
 * and as float16 (meta16, patches16); a run asks for one pair.
 */
function vitGraph(hst: HstModel, size: number, fused: boolean): { bytes: Uint8Array; depth: number; grid: [number, number] } {
  const g = new OnnxGraph();
  const img = g.input('image', ['batch', size, size, 3]);
  const out = onnxVit(g, hst, img, size, size, { fused });
  const dim = hst.config.embed_dim;
  const depth = out.metaOut.length;
  const N = out.h * out.w;
  const meta = g.concat(out.metaOut, 1);
  const patches = g.concat(out.patches.map((t) => g.reshape(t, [0, 1, N, dim])), 1);
  g.output(meta, 'meta', ['batch', depth, dim]);
  g.output(patches, 'patches', ['batch', depth, N, dim]);
  // the cache's float16, converted natively (a JS conversion took 40–90 ms per 384 px image)
  g.output(g.op('Cast', [meta], { to: DT.FLOAT16 }), 'meta16', ['batch', depth, dim], DT.FLOAT16);
  g.output(g.op('Cast', [patches], { to: DT.FLOAT16 }), 'patches16', ['batch', depth, N, dim], DT.FLOAT16);
  const bytes = g.encode({ producer: 'HST Studio', version: '1', doc: 'HST ViT pass (feature cache)', props: {} });
  return { bytes, depth, grid: [out.h, out.w] };
}

type VitInput = { image: Float32Array; height: number; width: number };

/** Patch tokens per CPU session run: bigger runs push the activations out of cache, smaller ones pay per run. */
const RUN_TOKENS = 512;

/** onnxruntime's CPU kernels, or its WebGPU execution provider (Linux x64, Windows, macOS builds of 1.30). */
export type OnnxProvider = 'cpu' | 'webgpu';

/** One image size's ViT pass as an onnxruntime session. */
export class OnnxVitPass {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly depth: number,
    readonly size: number,
    readonly grid: [number, number],
    readonly dim: number,
    /** whether the session runs the fused-operator graph */
    readonly fused: boolean,
    /** images per session run */
    readonly imagesPerRun: number,
  ) {}

  /**
   * Builds the session for square inputs of `size`, or null when onnxruntime-node is missing or refuses the
   * graph (the caller then uses tfjs). The session holds a copy of the ViT weights: rebuild it when they change.
   * On the CPU provider the graph uses onnxruntime's fused operators (`fused`, default; HST_ONNX_FUSED=0 turns
   * them off): ~5 % less time per image than the standard-op graph the ONNX export writes (ViT-S/384, 2 cores;
   * ~10 % less CPU time on one thread); a runtime that refuses them gets the standard graph.
   */
  static async create(hst: HstModel, size: number, threads = 0, provider: OnnxProvider = 'cpu', opts: { fused?: boolean; imagesPerRun?: number } = {}): Promise<OnnxVitPass | null> {
    const ort = loadOnnxRuntime();
    if (!ort) return null;
    // the graph embeds the ViT weights, read synchronously (webgpu: brought to the CPU first)
    await readyForSyncRead([...hst.store.entries.values()].map((e) => e.variable));
    await hst.vit.readyPosEmbed(size / hst.config.patch_size, size / hst.config.patch_size);
    // the WebGPU provider is not known to carry the contrib operators: it keeps the standard graph
    const fused = opts.fused ?? (provider === 'cpu' && process.env.HST_ONNX_FUSED !== '0');
    for (const f of fused ? [true, false] : [false]) {
      const { bytes, depth, grid } = vitGraph(hst, size, f);
      try {
        const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: [provider] });
        // CPU: about RUN_TOKENS patch tokens per run (ViT-S, fused graph, 2 cores, per image: at 384 px one image
        // per run 211 ms vs runs of 8 at 325 ms under load; 224 px 1–2 per run 62–64 vs 76 ms at best; 128 px
        // one per run 21 vs 18 ms — tiny runs pay the per-run overhead). A GPU provider gets the whole batch.
        const perRun = Math.max(1, opts.imagesPerRun ?? (provider === 'cpu' ? Math.floor(RUN_TOKENS / (grid[0] * grid[1])) : Number.MAX_SAFE_INTEGER));
        return new OnnxVitPass(ort, session, depth, size, grid, hst.config.embed_dim, f, perRun);
      } catch {
        // fused: try the standard graph
      }
    }
    return null;
  }

  /**
   * The ViT pass of a batch of normalised [size, size, 3] inputs, one result per image, in runs of
   * `imagesPerRun` images (CPU: ~512 patch tokens, so one image per run from 384 px). The results are views of
   * the run's output buffers (image-major: no copy).
   */
  async run(inputs: readonly VitInput[]): Promise<CachedFeatures[]> {
    return this.runAs(inputs, 'meta', 'patches', (d) => d as Float32Array);
  }

  /** `run` with the features as the cache stores them: float16 bits, converted by onnxruntime. */
  async runHalf(inputs: readonly VitInput[]): Promise<HalfFeatures[]> {
    // float16 tensors come as Uint16Array (or Float16Array where the runtime has it): read the bits
    return this.runAs(inputs, 'meta16', 'patches16', (d) => {
      const a = d as ArrayBufferView & { length: number };
      return a instanceof Uint16Array ? a : new Uint16Array(a.buffer, a.byteOffset, a.length);
    });
  }

  private async runAs<A extends Float32Array | Uint16Array>(inputs: readonly VitInput[], metaName: string, patchesName: string, view: (d: unknown) => A): Promise<{ depth: number; h: number; w: number; dim: number; meta: A; patches: A }[]> {
    const S = this.size;
    for (const s of inputs) {
      if (s.height !== S || s.width !== S) throw new Error(`feature cache: onnx ViT pass built for ${S}×${S}, got a ${s.height}×${s.width} input`);
    }
    const [h, w] = this.grid;
    const { depth, dim } = this;
    const per = depth * h * w * dim;
    const out: { depth: number; h: number; w: number; dim: number; meta: A; patches: A }[] = [];
    for (let i = 0; i < inputs.length; i += this.imagesPerRun) {
      const part = inputs.slice(i, i + this.imagesPerRun);
      const buf = part.length === 1 ? part[0].image : new Float32Array(part.length * S * S * 3);
      if (part.length > 1) part.forEach((s, b) => buf.set(s.image, b * S * S * 3));
      const res = await this.session.run({ image: new this.ort.Tensor('float32', buf, [part.length, S, S, 3]) }, [metaName, patchesName]);
      const meta = view(res[metaName].data);
      const patches = view(res[patchesName].data);
      for (let b = 0; b < part.length; b++) {
        out.push({ depth, h, w, dim, meta: meta.subarray(b * depth * dim, (b + 1) * depth * dim) as A, patches: patches.subarray(b * per, (b + 1) * per) as A });
      }
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
