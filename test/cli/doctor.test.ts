// `hst-studio doctor` as a user runs it: the built CLI in a fresh process.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const nodeInstalled = fs.existsSync(`${root}/node_modules/@tensorflow/tfjs-node/package.json`);

function doctor(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, ['bin/hst-studio.js', 'doctor', ...args], {
    cwd: root,
    env: { ...process.env, HST_BACKEND: undefined, HST_THREADS: undefined, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hst-studio doctor', () => {
  it.skipIf(nodeInstalled)('--json names wasm, the threads used and the extra kernels', () => {
    const r = doctor(['--json'], { HST_DATA_DIR: '/tmp/hst-doctor-test' });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backend).toBe('wasm');
    expect(info.threads).toBe(Math.min(os.availableParallelism(), 8));
    expect(info.extraKernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']));
    expect(info.tfjsVersion).toBe('4.22.0');
    expect(info.dataDir).toBe('/tmp/hst-doctor-test');
    expect(info.reasons.map((x: { package: string }) => x.package)).toEqual(['@tensorflow/tfjs-node-gpu', 'webgpu', '@tensorflow/tfjs-node']);
    expect(typeof info.electron.installed).toBe('boolean');
    expect(typeof info.gpu.detail).toBe('string');
  });
  it.skipIf(nodeInstalled)('HST_BACKEND=tensorflow without tfjs-node: a clear message and the fallback, no crash', () => {
    const r = doctor([], { HST_BACKEND: 'tensorflow' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/HST_BACKEND=tensorflow was requested, but @tensorflow\/tfjs-node is not installed/);
    expect(r.stdout).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
    expect(r.stdout).toMatch(/^backend {5}wasm \(/m);
    expect(r.stdout).toMatch(/Using the wasm backend instead of the requested tensorflow/);
    expect(r.stderr).not.toMatch(/at .*\(.*:\d+:\d+\)/);
  });
  it('names the WebGPU adapter with its limits, or says why there is none', () => {
    const r = doctor([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^WebGPU {6}(vendor .*, architecture .*max buffer .*max storage binding|no adapter: .+)/m);
  });
  it('HST_BACKEND=cpu is honoured', () => {
    const r = doctor(['--json'], { HST_BACKEND: 'cpu' });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ backend: 'cpu', threads: 1, requested: 'cpu', requestedBy: 'HST_BACKEND', extraKernels: ['HstNorm', 'HstNormGrad', 'HstAdamW'] });
  });
  it('rejects an unknown flag with a sentence', () => {
    const r = doctor(['--jsn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hst-studio doctor: .*--jsn/);
  });
});
