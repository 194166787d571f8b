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
    default:
      return `${n}, pure JavaScript (slow)`;
  }
}

/** The human-readable report: what runs, what was skipped and how to get it. */
export function formatDoctor(info: ComputeInfo): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(12)}${v}`);
  row('backend', `${info.backend} (${describeThreads(info)})`);
  row('tfjs', info.tfjsVersion);
  row('kernels', info.extraKernels.length ? `${info.extraKernels.length} extra wasm kernels: ${info.extraKernels.join(', ')}` : 'stock');
  row('GPU', info.gpu.inUse ? info.gpu.detail : `not used: ${info.gpu.detail}`);
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
  summary: 'show the compute backend, threads, kernels, GPU, Electron and data dir',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean' } }, false);
    if (values.help) {
      console.log(`Usage: hst-studio doctor [--json]

Shows which TensorFlow.js backend runs (tensorflow on a GPU, tensorflow on the CPU, wasm, cpu),
why faster ones were not used and what to install, the threads used, the extra wasm kernels,
GPU and Electron presence, and the data dir. Force a backend with HST_BACKEND=tensorflow|wasm|cpu,
the wasm thread count with HST_THREADS=N.`);
      return 0;
    }
    const info = await initCompute();
    console.log(values.json ? JSON.stringify(info, null, 2) : formatDoctor(info));
    return 0;
  },
};
