// The native 'tensorflow' backend (libtensorflow through tfjs-node or tfjs-node-gpu), loaded only
// if installed. Both packages are optional: their postinstall downloads libtensorflow, which is
// impossible on some machines, and the GPU build also needs CUDA 11.2 + cuDNN 8.1.
import * as tf from '@tensorflow/tfjs-core';
import { importOptional } from './optional-import';

export const INSTALL_GPU =
  'npm install @tensorflow/tfjs-node-gpu@4.22.0 (Linux x64 with an NVIDIA GPU, CUDA 11.2 and cuDNN 8.1; CUDA 12 does not work with libtensorflow 2.9.1)';
export const INSTALL_CPU = 'npm install @tensorflow/tfjs-node@4.22.0 (downloads libtensorflow 2.9.1, about 100 MB)';

export interface Attempt {
  backend: string;
  package?: string;
  ok: boolean;
  reason?: string;
  install?: string;
}

export interface TensorflowStart {
  attempts: Attempt[];
  /** null when neither package gave a working backend. */
  started: { package: string; gpu: boolean } | null;
}

/** Run a tiny op and read it back: a backend that registers but cannot compute is not usable. */
async function smokeTest(): Promise<string | null> {
  try {
    const v = await tf.tidy(() => tf.sum(tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])))).data();
    return v[0] === 8 ? null : `a 2×2 matmul returned ${v[0]} instead of 8`;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

async function activate(pkg: string): Promise<string | null> {
  if (!tf.findBackendFactory('tensorflow')) return `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs-core (${tf.version_core}); reinstall so both use the same version`;
  try {
    if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its backend failed to initialise`;
  } catch (err) {
    return `${pkg} loaded but its backend failed to initialise: ${(err as Error).message}`;
  }
  return smokeTest();
}

// tfjs-node-gpu that loaded but found no GPU: its libtensorflow still runs on the CPU. Loading tfjs-node as well
// would register a second 'tensorflow' backend, so the CPU step reuses this one.
let gpuPackageOnCpu = false;

/**
 * `'gpu'`: tfjs-node-gpu on a GPU only (the first choice). `'cpu'`: libtensorflow on the CPU — tfjs-node-gpu's
 * when it loaded without a GPU, else tfjs-node (third, after WebGPU on a hardware adapter).
 */
export async function startTensorflow(want: 'gpu' | 'cpu'): Promise<TensorflowStart> {
  const attempts: Attempt[] = [];
  if (want === 'gpu') {
    const pkg = '@tensorflow/tfjs-node-gpu';
    const gpu = await importOptional('@tensorflow', 'tfjs-node-gpu');
    if (gpu.ok) {
      const problem = await activate(pkg);
      if (!problem) {
        const be = tf.backend() as { isUsingGpuDevice?: boolean };
        if (be.isUsingGpuDevice) {
          attempts.push({ backend: 'tensorflow (GPU)', package: pkg, ok: true });
          return { attempts, started: { package: pkg, gpu: true } };
        }
        gpuPackageOnCpu = true;
        attempts.push({ backend: 'tensorflow (GPU)', package: pkg, ok: false, reason: 'tfjs-node-gpu is installed but libtensorflow found no usable GPU (it needs CUDA 11.2 and cuDNN 8.1 on the library path)', install: INSTALL_GPU });
        return { attempts, started: null };
      }
      attempts.push({ backend: 'tensorflow (GPU)', package: pkg, ok: false, reason: problem, install: INSTALL_GPU });
      return { attempts, started: null };
    }
    attempts.push({ backend: 'tensorflow (GPU)', package: pkg, ok: false, reason: gpu.missing ? `${pkg} is not installed` : gpu.reason, install: INSTALL_GPU });
    return { attempts, started: null };
  }
  if (gpuPackageOnCpu) {
    const pkg = '@tensorflow/tfjs-node-gpu';
    const problem = await activate(pkg);
    if (!problem) {
      attempts.push({ backend: 'tensorflow (CPU)', package: pkg, ok: true });
      return { attempts, started: { package: pkg, gpu: false } };
    }
    attempts.push({ backend: 'tensorflow (CPU)', package: pkg, ok: false, reason: problem, install: INSTALL_CPU });
    return { attempts, started: null };
  }
  const pkg = '@tensorflow/tfjs-node';
  const cpu = await importOptional('@tensorflow', 'tfjs-node');
  if (cpu.ok) {
    const problem = await activate(pkg);
    if (!problem) {
      attempts.push({ backend: 'tensorflow (CPU)', package: pkg, ok: true });
      return { attempts, started: { package: pkg, gpu: false } };
    }
    attempts.push({ backend: 'tensorflow (CPU)', package: pkg, ok: false, reason: problem, install: INSTALL_CPU });
  } else {
    attempts.push({ backend: 'tensorflow (CPU)', package: pkg, ok: false, reason: cpu.missing ? `${pkg} is not installed` : cpu.reason, install: INSTALL_CPU });
  }
  return { attempts, started: null };
}
