// The frozen ViT pass through onnxruntime-node, when it is installed: filling the feature cache is pure
// inference over a frozen network, and onnxruntime's native CPU kernels run it several times faster than tfjs
// on wasm (docs/compute.md). The graph is the ONNX export's own ViT twin (export/onnx/vit.ts), so the numbers
// are the studio's ViT pass up to float rounding (~1e-6, far below the cache's float16 storage error).
// Without onnxruntime-node — or if its session cannot be built — callers fall back to the tfjs pass.
import { createRequire } from 'node:module';
import { readyForSyncRead } from '../compute/engine';
import { OnnxGraph } from '../export/onnx/graph';
import { onnxVit } from '../export/onnx/vit';
import type { HstModel } from '../model/hst';
import type { CachedFeatures } from './types';

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

/** The ViT pass as an ONNX graph: every layer's Meta Token output and patch tokens as outputs. */
function vitGraph(hst: HstModel, size: number, fused: boolean): { bytes: Uint8Array; depth: number; grid: [number, number] } {
  const g = new OnnxGraph();
  const img = g.input('image', ['batch', size, size, 3]);
  const out = onnxVit(g, hst, img, size, size, { fused });
  const dim = hst.config.embed_dim;
  out.metaOut.forEach((t, l) => g.output(t, `meta${l}`, ['batch', 1, dim]));
  out.patches.forEach((t, l) => g.output(t, `patches${l}`, ['batch', out.h * out.w, dim]));
  const bytes = g.encode({ producer: 'HST Studio', version: '1', doc: 'HST ViT pass (feature cache)', props: {} });
  return { bytes, depth: out.metaOut.length, grid: [out.h, out.w] };
}

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
  ) {}

  /**
   * Builds the session for square inputs of `size`, or null when onnxruntime-node is missing or refuses the
   * graph (the caller then uses tfjs). The session holds a copy of the ViT weights: rebuild it when they change.
   * On the CPU provider the graph uses onnxruntime's fused operators (`fused`, default; HST_ONNX_FUSED=0 turns
   * them off): ~25 % less time per image than the standard-op graph the ONNX export writes; a runtime that
   * refuses them gets the standard graph.
   */
  static async create(hst: HstModel, size: number, threads = 0, provider: OnnxProvider = 'cpu', opts: { fused?: boolean } = {}): Promise<OnnxVitPass | null> {
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
        return new OnnxVitPass(ort, session, depth, size, grid, hst.config.embed_dim, f);
      } catch {
        // fused: try the standard graph
      }
    }
    return null;
  }

  /** The ViT pass of a batch of normalised [size, size, 3] inputs, split per image. */
  async run(inputs: readonly { image: Float32Array; height: number; width: number }[]): Promise<CachedFeatures[]> {
    const S = this.size;
    const buf = new Float32Array(inputs.length * S * S * 3);
    inputs.forEach((s, i) => {
      if (s.height !== S || s.width !== S) throw new Error(`feature cache: onnx ViT pass built for ${S}×${S}, got a ${s.height}×${s.width} input`);
      buf.set(s.image, i * S * S * 3);
    });
    const res = await this.session.run({ image: new this.ort.Tensor('float32', buf, [inputs.length, S, S, 3]) });
    const [h, w] = this.grid;
    const dim = this.dim;
    const per = h * w * dim;
    const meta = Array.from({ length: this.depth }, (_, l) => res[`meta${l}`].data as Float32Array);
    const patches = Array.from({ length: this.depth }, (_, l) => res[`patches${l}`].data as Float32Array);
    return inputs.map((_, b) => {
      const m = new Float32Array(this.depth * dim);
      const p = new Float32Array(this.depth * per);
      for (let l = 0; l < this.depth; l++) {
        m.set(meta[l].subarray(b * dim, (b + 1) * dim), l * dim);
        p.set(patches[l].subarray(b * per, (b + 1) * per), l * per);
      }
      return { depth: this.depth, h, w, dim, meta: m, patches: p };
    });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
