// Starts @tensorflow/tfjs-backend-webgpu in Node on the adapter webgpu-adapter.ts found. The stock backend
// registers itself only when `navigator.gpu` exists at import time and then picks its own adapter; here the
// device is made from the adapter we classified (so a software adapter is never used by accident) and the
// backend is registered under 'webgpu' with it.
import * as tf from '@tensorflow/tfjs-core';
import { importOptional } from './optional-import';
import { probeWebGpu, adapterName, type AdapterLike, type GpuLike, type WebGpuAdapterInfo } from './webgpu-adapter';

export interface WebGpuStart {
  adapter: WebGpuAdapterInfo | null;
  /** null when started */
  problem: string | null;
  install?: string;
}

type WebGpuModule = { WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend };

let started: WebGpuAdapterInfo | null = null;

/** Node ≤ 20 has no `navigator`; Node ≥ 21 (and Electron) has one without `gpu`. */
function exposeGpu(gpu: GpuLike): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator == null) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!('gpu' in g.navigator) || (g.navigator as { gpu?: unknown }).gpu !== gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}

async function smokeTest(): Promise<string | null> {
  try {
    const v = await tf.tidy(() => tf.sum(tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])))).data();
    return v[0] === 8 ? null : `a 2×2 matmul returned ${v[0]} instead of 8`;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

/**
 * Make 'webgpu' the active backend. `allowSoftware` (a forced HST_BACKEND=webgpu) accepts llvmpipe & co.;
 * automatic selection never does.
 */
export async function startWebGpu(allowSoftware: boolean): Promise<WebGpuStart> {
  if (started) {
    if (started.software && !allowSoftware) return { adapter: started, problem: `the only WebGPU adapter is a software one (${adapterName(started)})` };
    return (await tf.setBackend('webgpu')) ? { adapter: started, problem: null } : { adapter: started, problem: 'the webgpu backend stopped working' };
  }
  const probe = await probeWebGpu();
  if (!probe.adapter || !probe.raw || !probe.gpu) return { adapter: null, problem: probe.reason ?? 'no WebGPU adapter', install: probe.install };
  const adapter = probe.adapter;
  if (adapter.software && !allowSoftware)
    return {
      adapter,
      problem: `the only WebGPU adapter is a software one (${adapterName(adapter)}), about 1 GFLOP/s: never used automatically (HST_BACKEND=webgpu forces it, for tests)`,
      install: 'a GPU with a Vulkan (Linux), Metal (macOS) or Direct3D 12 (Windows) driver',
    };
  exposeGpu(probe.gpu);
  const mod = await importOptional<WebGpuModule>('@tensorflow', 'tfjs-backend-webgpu');
  if (!mod.ok) return { adapter, problem: mod.reason, install: 'npm ci (restores @tensorflow/tfjs-backend-webgpu)' };
  const raw: AdapterLike = probe.raw;
  const device = await requestDevice(raw).catch((err: Error) => err);
  if (device instanceof Error) return { adapter, problem: `the adapter refused a device: ${device.message.split('\n')[0]}` };
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new mod.module.WebGPUBackend(device, raw.info), 1);
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (err) {
    return { adapter, problem: `the webgpu backend failed to initialise: ${(err as Error).message}` };
  }
  if (!ok) return { adapter, problem: 'the webgpu backend failed to initialise' };
  const bad = await smokeTest();
  if (bad) return { adapter, problem: `the webgpu backend computes wrongly: ${bad}` };
  started = adapter;
  return { adapter, problem: null };
}

/** The device tfjs-backend-webgpu asks for itself: the adapter's full limits, timestamps when offered. */
function requestDevice(a: AdapterLike): Promise<unknown> {
  const l = a.limits;
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => a.features.has(f));
  return a.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
}

/** The adapter the running webgpu backend computes on (null before it started). */
export function webGpuAdapter(): WebGpuAdapterInfo | null {
  return started;
}
