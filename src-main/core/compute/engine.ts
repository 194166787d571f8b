// The compute engine: picks the fastest working TensorFlow.js backend at start-up —
// tensorflow on a GPU (tfjs-node-gpu), webgpu on a hardware adapter (Dawn: Vulkan/Metal/D3D12), tensorflow on
// the CPU (tfjs-node), wasm (multithreaded, with our extra kernels), then cpu — and records why each faster one
// was not used. Everyone imports
// `tf` from here and calls initCompute() once; only tests pick a backend themselves.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './gradients';
import os from 'node:os';
import { startTensorflow, type Attempt } from './tensorflow-backend';
import { startWasm } from './wasm-backend';
import { startWebGpu } from './webgpu-backend';
import { adapterName, type WebGpuAdapterInfo } from './webgpu-adapter';
import { registerWasmKernels } from './kernels/index';
import { NORM_GRAD_KERNEL, NORM_KERNEL, registerFusedNorm } from './kernels/fused-norm';
import { ADAMW_KERNEL, registerFusedAdamW } from './kernels/fused-adamw';
import { dataDir, electronInfo, probeNvidiaGpu, type ElectronInfo, type GpuInfo } from './environment';

export type { Attempt } from './tensorflow-backend';
export type { GpuInfo, ElectronInfo } from './environment';
export type { WebGpuAdapterInfo } from './webgpu-adapter';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface ComputeInfo {
  /** The active tfjs backend: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  backend: string;
  /** Threads the backend actually computes with (wasm: the XNNPACK pool incl. the main thread). */
  threads: number;
  tfjsVersion: string;
  /** Kernels we registered on top of the stock backend (wasm only). */
  extraKernels: string[];
  /** Sentences for the user: fallbacks, what was requested and not honoured. */
  notes: string[];
  /** What was asked for and by whom. */
  requested: BackendChoice;
  requestedBy: 'default' | 'HST_BACKEND' | 'option';
  /** Every backend tried before the one in use, in order, with why it was not used and what to install. */
  reasons: Attempt[];
  threadMode: 'native' | 'gpu' | 'wasm-threads' | 'wasm-single' | 'js';
  simd: boolean | null;
  gpu: GpuInfo;
  /** The WebGPU adapter Dawn found (used or not: a software one never is unless forced); null when none. */
  webgpu: WebGpuAdapterInfo | null;
  electron: ElectronInfo;
  dataDir: string;
  cpuCores: number;
}

export interface InitOptions {
  /** 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu' (a setting); HST_BACKEND is used when absent. */
  backend?: string;
  /** Wanted wasm threads; HST_THREADS, else every core. 1 = the single-threaded build. */
  threads?: number;
}

let info: ComputeInfo | null = null;
let pending: Promise<ComputeInfo> | null = null;

/** Cores this process may use (os.availableParallelism where Node has it). */
export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function parseChoice(opts: InitOptions, notes: string[]): { choice: BackendChoice; by: ComputeInfo['requestedBy'] } {
  const raw = opts.backend ?? process.env.HST_BACKEND;
  const by: ComputeInfo['requestedBy'] = opts.backend != null ? 'option' : process.env.HST_BACKEND ? 'HST_BACKEND' : 'default';
  if (raw == null || raw === '') return { choice: 'auto', by: 'default' };
  const v = raw.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return { choice: v as BackendChoice, by };
  notes.push(`${by === 'option' ? 'backend setting' : 'HST_BACKEND'}="${raw}" is not one of ${BACKEND_CHOICES.join(', ')}; choosing automatically.`);
  return { choice: 'auto', by };
}

function wantedThreads(opts: InitOptions, notes: string[]): number {
  if (opts.threads != null) return Math.max(1, Math.floor(opts.threads));
  const env = process.env.HST_THREADS;
  if (env) {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
    notes.push(`HST_THREADS="${env}" is not a positive whole number; using every core.`);
  }
  return availableCores();
}

async function select(opts: InitOptions): Promise<ComputeInfo> {
  const notes: string[] = [];
  const { choice, by } = parseChoice(opts, notes);
  const reasons: Attempt[] = [];
  const nvidia = await probeNvidiaGpu();
  let backend = '';
  let threads = 1;
  let threadMode: ComputeInfo['threadMode'] = 'js';
  let simd: boolean | null = null;
  let extraKernels: string[] = [];
  let gpuInUse = false;

  let webgpu: WebGpuAdapterInfo | null = null;
  const tryTensorflow = async (want: 'gpu' | 'cpu') => {
    const t = await startTensorflow(want);
    if (t.started) {
      backend = 'tensorflow';
      threads = availableCores();
      threadMode = 'native';
      gpuInUse = t.started.gpu;
      reasons.push(...t.attempts.filter((a) => !a.ok));
    } else reasons.push(...t.attempts);
  };
  // 1. libtensorflow on a CUDA GPU
  if (choice === 'auto' || choice === 'tensorflow') await tryTensorflow('gpu');
  // 2. WebGPU on a hardware adapter (a forced 'webgpu' also accepts a software one, and says so)
  if (!backend && (choice === 'auto' || choice === 'webgpu')) {
    const w = await startWebGpu(choice === 'webgpu');
    webgpu = w.adapter;
    if (!w.problem) {
      backend = 'webgpu';
      threads = 1;
      threadMode = 'gpu';
      gpuInUse = !w.adapter!.software;
      if (w.adapter!.software) notes.push(`WebGPU runs on a software adapter (${adapterName(w.adapter!)}): correct but about 1 GFLOP/s, slower than wasm; for tests only.`);
    } else {
      const a: Attempt = { backend: 'webgpu', package: 'webgpu', ok: false, reason: w.problem, install: w.install };
      reasons.push(a);
      if (choice === 'webgpu') notes.push(`HST_BACKEND=webgpu was requested, but ${w.problem}. To use it: ${w.install ?? 'see doctor'}. Falling back.`);
    }
  }
  // 3. libtensorflow on the CPU
  if (!backend && (choice === 'auto' || choice === 'tensorflow')) {
    await tryTensorflow('cpu');
    if (!backend && choice === 'tensorflow') {
      const tried = reasons.filter((r) => r.backend.startsWith('tensorflow'));
      const why = tried.every((a) => a.reason?.endsWith('is not installed')) ? '@tensorflow/tfjs-node is not installed' : tried.map((a) => a.reason).join('; ');
      notes.push(`HST_BACKEND=tensorflow was requested, but ${why}. To use it: ${tried[tried.length - 1].install}. Falling back.`);
    }
  }
  if (!backend && choice !== 'cpu') {
    try {
      const w = await startWasm(wantedThreads(opts, notes));
      backend = 'wasm';
      threads = w.threads;
      simd = w.simd;
      threadMode = w.threads > 1 ? 'wasm-threads' : 'wasm-single';
      notes.push(...w.notes);
      extraKernels = registerWasmKernels();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String((err as { message?: string })?.message ?? err);
      reasons.push({ backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', ok: false, reason: msg, install: 'npm ci (restores @tensorflow/tfjs-backend-wasm and its .wasm files)' });
      notes.push(`The wasm backend failed to start (${msg}); using the slow pure-JS cpu backend.`);
    }
  }
  if (!backend) {
    if (!(await tf.setBackend('cpu'))) throw new Error('No TensorFlow.js backend could be started, not even the pure-JS cpu backend.');
    backend = 'cpu';
    threads = 1;
    threadMode = 'js';
  }
  await tf.ready();
  // fused LayerNorm/GroupNorm for the JS-memory backends (HST_FUSED_NORM=0 keeps the composed ops, for comparison)
  if (process.env.HST_FUSED_NORM !== '0') {
    registerFusedNorm();
    if (backend === 'wasm' || backend === 'cpu') extraKernels = [...(extraKernels ?? []), NORM_KERNEL, NORM_GRAD_KERNEL];
  }
  // fused AdamW update for the JS-memory backends (HST_FUSED_ADAMW=0 keeps the composed ops)
  if (process.env.HST_FUSED_ADAMW !== '0') {
    registerFusedAdamW();
    if (backend === 'wasm' || backend === 'cpu') extraKernels = [...extraKernels, ADAMW_KERNEL];
  }
  if (choice !== 'auto' && choice !== backend) notes.push(`Using the ${backend} backend instead of the requested ${choice}.`);
  else notes.push(`Using the ${backend} backend${choice === 'auto' ? ' (fastest available)' : ` (requested by ${by === 'option' ? 'setting' : by})`}.`);

  return {
    backend,
    threads,
    tfjsVersion: tf.version_core,
    extraKernels,
    notes,
    requested: choice,
    requestedBy: by,
    reasons,
    threadMode,
    simd,
    gpu: gpuDescription(nvidia, gpuInUse, backend, webgpu),
    webgpu,
    electron: electronInfo(),
    dataDir: dataDir(),
    cpuCores: availableCores(),
  };
}

function gpuDescription(nvidia: { detected: boolean; detail: string }, inUse: boolean, backend: string, webgpu: WebGpuAdapterInfo | null): GpuInfo {
  if (backend === 'webgpu' && webgpu) {
    const limits = `max buffer ${fmtBytes(webgpu.maxBufferSize)}, max storage binding ${fmtBytes(webgpu.maxStorageBufferBindingSize)}`;
    return { detected: nvidia.detected || !webgpu.software, inUse, detail: `${inUse ? 'computing on' : 'WebGPU on'} ${adapterName(webgpu)} through WebGPU (${limits})` };
  }
  const seen = webgpu ? `; WebGPU adapter: ${adapterName(webgpu)}` : '';
  return { detected: nvidia.detected || (webgpu != null && !webgpu.software), inUse, detail: inUse ? `computing on the GPU (${nvidia.detail})` : `${nvidia.detail}${seen}` };
}

function fmtBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

/**
 * Start the compute backend (once per process; later calls return the same info). Passing
 * `backend` switches backend, e.g. tests: `await initCompute({ backend: 'cpu' })`.
 */
export async function initCompute(opts: InitOptions = {}): Promise<ComputeInfo> {
  if (pending) await pending.catch(() => undefined);
  if (info && (opts.backend == null || opts.backend === info.backend)) {
    if (tf.getBackend() !== info.backend) await tf.setBackend(info.backend);
    return info;
  }
  pending = select(opts);
  try {
    info = await pending;
    return info;
  } finally {
    pending = null;
  }
}

/** wasm32 cannot address more than 4 GiB; past ~4 GB the single-thread build aborts and the
 * threaded one can hang, so batch sizes and caches must stay below this. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3;

export interface ComputeMemory {
  /** Bytes held by live tensors (tf.memory()). */
  tensorBytes: number;
  /** Current size of the wasm heap (it only grows), or null off wasm. */
  wasmHeapBytes: number | null;
  wasmHeapLimitBytes: number | null;
  /** webgpu: bytes of GPU buffers holding live tensors, and all GPU buffers the backend holds (its free pool
   * included: what the GPU has given this process); null off webgpu. */
  gpuBytesInUse: number | null;
  gpuBytesAllocated: number | null;
}

/** For trainers and caches that must plan around the wasm heap limit instead of hitting it. */
export function computeMemory(): ComputeMemory {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  const tensorBytes = m.numBytes;
  const none = { wasmHeapBytes: null, wasmHeapLimitBytes: null, gpuBytesInUse: null, gpuBytesAllocated: null };
  if (tf.getBackend() === 'webgpu') return { tensorBytes, ...none, gpuBytesInUse: m.numBytesInGPU ?? null, gpuBytesAllocated: m.numBytesAllocatedInGPU ?? null };
  if (tf.getBackend() !== 'wasm') return { tensorBytes, ...none };
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return { tensorBytes, ...none, wasmHeapBytes: be.wasm?.HEAPU8?.buffer.byteLength ?? null, wasmHeapLimitBytes: WASM_HEAP_LIMIT_BYTES };
}

/**
 * The webgpu backend cannot read a tensor synchronously in Node (its readSync needs OffscreenCanvas), but it
 * keeps what an async read brought back: await this before code that calls dataSync() on these tensors.
 * A no-op on the JS-memory backends (wasm, cpu), whose reads are synchronous anyway.
 */
export async function readyForSyncRead(tensors: readonly tf.Tensor[]): Promise<void> {
  if (tf.getBackend() !== 'webgpu') return;
  await Promise.all(tensors.map((t) => t.data()));
}

export function getComputeInfo(): ComputeInfo | null {
  return info;
}

export { tf };
