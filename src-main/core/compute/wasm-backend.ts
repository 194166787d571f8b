// Starts tfjs-backend-wasm in Node: binaries from node_modules, multithreaded when it works, and
// never a hang: a threaded start that does not finish in time is abandoned for the 1-thread build.
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { patchForWasmThreads } from './wasm-threads';

const require = createRequire(import.meta.url);
/** tfjs-backend-wasm caps its XNNPACK pool at 8 threads (asking for 12 gives 8). */
export const MAX_WASM_THREADS = 8;
/** A healthy threaded start takes well under a second; HST_WASM_START_TIMEOUT_MS overrides (tests). */
function threadedStartTimeoutMs(): number {
  const v = Number(process.env.HST_WASM_START_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 20_000;
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

export interface WasmStart {
  threads: number;
  simd: boolean;
  notes: string[];
}

/** Folder holding the .wasm binaries, found from this module whether run from src-main or dist/. */
export function wasmBinaryDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

let wasmModule: WasmModule | null = null;
let started: WasmStart | null = null;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Make 'wasm' the active backend. `threads` is what the caller wants (1 = single-threaded build);
 * the result says what was actually started. A second call reuses the running module.
 */
export async function startWasm(threads: number): Promise<WasmStart> {
  if (started) {
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend stopped working');
    return started;
  }
  wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  wasmModule.setWasmPaths(wasmBinaryDir());
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const notes: string[] = [];
  const want = Math.max(1, Math.min(Math.floor(threads), MAX_WASM_THREADS));
  if (want > 1 && !simd) notes.push('WebAssembly SIMD is not available, so the multithreaded wasm build (SIMD-only) cannot be used.');

  if (want > 1 && simd) {
    const factory = tf.findBackendFactory('wasm');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmModule.setThreadsCount(want);
    const patch = patchForWasmThreads(want);
    let outcome: boolean | 'timeout' | Error;
    try {
      outcome = await withTimeout(tf.setBackend('wasm'), threadedStartTimeoutMs());
    } catch (err) {
      outcome = err instanceof Error ? err : new Error(String(err));
    } finally {
      patch.restore();
    }
    if (outcome === true) {
      started = { threads: wasmModule.getThreadsCount(), simd, notes };
      return started;
    }
    patch.terminateWorkers();
    notes.push(
      outcome === 'timeout'
        ? `the multithreaded wasm build did not start within ${threadedStartTimeoutMs() / 1000} s; using 1 thread.`
        : `the multithreaded wasm build failed to start (${outcome === false ? 'initialisation failed' : outcome.message}); using 1 thread.`,
    );
    // Re-register the same factory so the engine forgets the abandoned start, then start 1-threaded.
    tf.removeBackend('wasm');
    if (factory) tf.registerBackend('wasm', factory, 2);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } else {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  started = { threads: wasmModule.getThreadsCount(), simd, notes };
  return started;
}
