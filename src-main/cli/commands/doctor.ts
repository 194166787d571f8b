import { initCompute, type ComputeInfo } from '../../core/compute/engine';
import { parse, type Command } from './command';

function describeThreads(info: ComputeInfo): string {
  const n = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  switch (info.threadMode) {
    case 'wasm-threads':
      return `${n}, multithreaded WebAssembly${info.simd ? ' + SIMD' : ''}`;
    case 'wasm-single':
      return `${n}, single-threaded WebAssembly${info.simd ? ' + SIMD' : ''} on ${info.cpuCores} cores`;
    case 'native':
      return `libtensorflow's own thread pool on ${info.cpuCores} cores`;
    case 'gpu':
      return info.gpu.inUse ? 'on the GPU through WebGPU' : 'WebGPU on a software adapter (slow: tests only)';
    default:
      return `${n}, pure JavaScript (slow)`;
  }
}

/** The adapter Dawn found (vendor, architecture, description), the limits that bound training, or why none. */
function describeWebGpu(info: ComputeInfo): string {
  const a = info.webgpu;
  if (!a) {
    const r = info.reasons.find((x) => x.backend === 'webgpu');
    return r ? `no adapter: ${r.reason}` : 'not probed';
  }
  const gib = (n: number) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`);
  const who = `vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, ${a.description || a.device || 'no description'}`;
  const kind = a.software ? 'software adapter, never picked automatically' : 'hardware adapter';
  const use = info.backend === 'webgpu' ? 'in use' : 'not in use';
  return `${who} (${kind}; ${use}); max buffer ${gib(a.maxBufferSize)}, max storage binding ${gib(a.maxStorageBufferBindingSize)}`;
}

/** The human-readable report: what runs, what was skipped and how to get it. */
export function formatDoctor(info: ComputeInfo): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(12)}${v}`);
  row('backend', `${info.backend} (${describeThreads(info)})`);
  row('tfjs', info.tfjsVersion);
  row('kernels', info.extraKernels.length ? `${info.extraKernels.length} extra wasm kernels: ${info.extraKernels.join(', ')}` : 'stock');
  row('GPU', info.gpu.inUse ? info.gpu.detail : `not used: ${info.gpu.detail}`);
  row('WebGPU', describeWebGpu(info));
  row('Electron', info.electron.installed ? `${info.electron.version}${info.electron.binary ? '' : ' (package present, binary not downloaded: `npm start` runs the server mode)'}` : 'not installed (`npm start` runs the server mode in a browser)');
  row('data dir', `${info.dataDir}${process.env.HST_DATA_DIR ? ' (from HST_DATA_DIR)' : ''}`);
  const skipped = info.reasons.filter((r) => !r.ok);
  if (skipped.length) {
    lines.push('', 'faster backends not used:');
    for (const r of skipped) {
      lines.push(`  ${r.backend}: ${r.reason}`);
      if (r.install) lines.push(`    to use it: ${r.install}`);
    }
  }
  if (info.notes.length) {
    lines.push('', 'notes:');
    for (const n of info.notes) lines.push(`  ${n}`);
  }
  return lines.join('\n');
}

export const doctor: Command = {
  summary: 'show the compute backend, threads, kernels, GPU (WebGPU adapter), Electron and data dir',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean' } }, false);
    if (values.help) {
      console.log(`Usage: hst-studio doctor [--json]

Shows which TensorFlow.js backend runs (tensorflow on a GPU, webgpu on a hardware GPU, tensorflow on
the CPU, wasm, cpu), why faster ones were not used and what to install, the threads used, the extra
wasm kernels, the WebGPU adapter (vendor, architecture, limits) or why there is none, Electron presence,
and the data dir. Force a backend with HST_BACKEND=tensorflow|webgpu|wasm|cpu (webgpu then accepts
a software adapter such as llvmpipe, for tests),
the wasm thread count with HST_THREADS=N.`);
      return 0;
    }
    const info = await initCompute();
    console.log(values.json ? JSON.stringify(info, null, 2) : formatDoctor(info));
    return 0;
  },
};
