// Backend selection: the default here is wasm with every core; forced backends fall back with a
// sentence saying why; the info names the kernels we registered.
import { beforeAll, describe, expect, it } from 'vitest';
import os from 'node:os';
import fs from 'node:fs';
import { initCompute, getComputeInfo, computeMemory, WASM_HEAP_LIMIT_BYTES, tf, type ComputeInfo } from '../../../src-main/core/compute/engine';
import { MAX_WASM_THREADS } from '../../../src-main/core/compute/wasm-backend';

// Captured before the engine starts: the thread patch must leave these globals as it found them.
const origBlob = globalThis.Blob;
const origCreateObjectURL = URL.createObjectURL;
const realCores = os.cpus().length;

const nodeInstalled = fs.existsSync('node_modules/@tensorflow/tfjs-node/package.json') || fs.existsSync('node_modules/@tensorflow/tfjs-node-gpu/package.json');
let info: ComputeInfo;

beforeAll(async () => {
  delete process.env.HST_BACKEND;
  delete process.env.HST_THREADS;
  info = await initCompute();
});

describe('default selection', () => {
  it.skipIf(nodeInstalled)('picks wasm when tfjs-node is absent, and says why tensorflow was skipped', () => {
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.requested).toBe('auto');
    const skipped = info.reasons.map((r) => r.package);
    // webgpu sits between them; here it has no hardware adapter (lavapipe at most) or no Dawn at all
    expect(skipped).toEqual(['@tensorflow/tfjs-node-gpu', 'webgpu', '@tensorflow/tfjs-node']);
    const webgpu = info.reasons[1];
    expect(webgpu.ok).toBe(false);
    expect(webgpu.reason).toMatch(/software one|not installed|Vulkan|adapter/);
    expect(webgpu.install).toBeTruthy();
    for (const r of info.reasons.filter((x) => x.backend.startsWith('tensorflow'))) {
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/is not installed/);
      expect(r.install).toMatch(/^npm install @tensorflow\/tfjs-node/);
    }
    expect(info.reasons[0].install).toMatch(/CUDA 11\.2.*cuDNN 8\.1/);
  });
  it.skipIf(nodeInstalled)('uses every core (up to the pool size) with the threaded build', () => {
    const want = Math.min(os.availableParallelism(), MAX_WASM_THREADS);
    expect(info.threads).toBe(want);
    expect(info.threadMode).toBe(want > 1 ? 'wasm-threads' : 'wasm-single');
  });
  it.skipIf(nodeInstalled)('lists the extra wasm kernels, each really registered', () => {
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum'])
      expect(info.extraKernels).toContain(k);
    for (const k of info.extraKernels) expect(tf.getKernel(k, 'wasm')).toBeDefined();
  });
  it('reports versions, cores, data dir and the environment', () => {
    expect(info.tfjsVersion).toBe(tf.version_core);
    expect(info.cpuCores).toBe(os.availableParallelism());
    expect(typeof info.dataDir).toBe('string');
    expect(info.electron.installed).toBe(fs.existsSync('node_modules/electron/package.json'));
    expect(typeof info.gpu.detail).toBe('string');
    expect(getComputeInfo()).toBe(info);
  });
  it.skipIf(nodeInstalled)('reports the wasm heap against its 4 GiB limit', () => {
    const before = computeMemory();
    const t = tf.zeros([1024, 1024]);
    const after = computeMemory();
    expect(after.tensorBytes - before.tensorBytes).toBe(4 * 1024 * 1024);
    expect(after.wasmHeapBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(after.wasmHeapLimitBytes).toBe(WASM_HEAP_LIMIT_BYTES);
    t.dispose();
  });
  it('leaves Blob, URL.createObjectURL and os.cpus as they were after starting threads', () => {
    expect(globalThis.Blob).toBe(origBlob);
    expect(URL.createObjectURL).toBe(origCreateObjectURL);
    expect(os.cpus().length).toBe(realCores);
  });
  it('returns the same info on a second call', async () => {
    expect(await initCompute()).toBe(info);
  });
  it('computes correctly on all threads', async () => {
    const a = tf.randomNormal([96, 80], 0, 1, 'float32', 3);
    const b = tf.randomNormal([80, 72], 0, 1, 'float32', 4);
    const got = await tf.matMul(a, b).data();
    const av = await a.data();
    const bv = await b.data();
    for (const [i, j] of [[0, 0], [95, 71], [40, 13]]) {
      let ref = 0;
      for (let k = 0; k < 80; k++) ref += av[i * 80 + k] * bv[k * 72 + j];
      expect(got[i * 72 + j]).toBeCloseTo(ref, 3);
    }
  });
});

describe('forced backends', () => {
  it.skipIf(nodeInstalled)('tensorflow without tfjs-node falls back to wasm and says what to install', async () => {
    const forced = await initCompute({ backend: 'tensorflow' });
    expect(forced.backend).toBe('wasm');
    expect(forced.requested).toBe('tensorflow');
    const text = forced.notes.join(' ');
    expect(text).toMatch(/tensorflow was requested, but @tensorflow\/tfjs-node is not installed/);
    expect(text).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
    expect(text).toMatch(/instead of the requested tensorflow/);
  });
  it('cpu on request', async () => {
    const cpu = await initCompute({ backend: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(cpu.threads).toBe(1);
    // no wasm kernels; the fused norm and AdamW kernels serve every JS-memory backend
    expect(cpu.extraKernels).toEqual(['HstNorm', 'HstNormGrad', 'HstAdamW']);
  });
  it('an unknown choice is reported and ignored', async () => {
    const auto = await initCompute({ backend: 'gpu-please' });
    expect(auto.notes.join(' ')).toMatch(/"gpu-please" is not one of auto, tensorflow, webgpu, wasm, cpu/);
    expect(auto.requested).toBe('auto');
    expect(['tensorflow', 'wasm']).toContain(auto.backend);
  });
  it('an explicit option beats HST_BACKEND (the CLI test covers the variable alone)', async () => {
    process.env.HST_BACKEND = 'cpu';
    try {
      await initCompute({ backend: 'cpu' });
      const w = await initCompute({ backend: 'wasm' });
      expect(w.backend).toBe('wasm');
      expect(w.requestedBy).toBe('option');
    } finally {
      delete process.env.HST_BACKEND;
    }
  });
});
