// What the engine makes of an adapter (hardware or software) and of its absence; pure functions, no GPU needed.
import { describe, expect, it } from 'vitest';
import { DoctorReport } from '../../../src-main/contract/api';
import { adapterName, describeAdapter, explainNoAdapter, type AdapterLike } from '../../../src-main/core/compute/webgpu-adapter';

const limits = { maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 31 };
function adapter(info: AdapterLike['info'], extra: Partial<AdapterLike> = {}): AdapterLike {
  return { info, limits, features: { has: () => false }, requestDevice: async () => ({}), ...extra };
}

describe('describeAdapter', () => {
  it('takes a desktop GPU for hardware and keeps the limits that bound training', () => {
    const a = describeAdapter(adapter({ vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080' }));
    expect(a).toMatchObject({ vendor: 'nvidia', architecture: 'ampere', software: false, maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 31 });
    expect(adapterName(a)).toBe('nvidia ampere (NVIDIA GeForce RTX 3080)');
  });
  it.each([
    ['llvmpipe (lavapipe)', { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7' }],
    ['SwiftShader', { vendor: 'google', architecture: '', device: 'SwiftShader Device (Subzero)', description: '' }],
    ['WARP', { vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' }],
    ['a CPU-type adapter', { vendor: 'x', architecture: '', device: '', description: 'some device', type: 'CPU' }],
    ['an adapter that says it is a fallback', { vendor: 'x', architecture: '', device: '', description: 'some device', isFallbackAdapter: true }],
  ])('takes %s for software', (_, info) => {
    const a = describeAdapter(adapter(info));
    expect(a.software).toBe(true);
    expect(adapterName(a)).toMatch(/, software$/);
  });
  it('reads the old adapter-level fallback flag too', () => {
    expect(describeAdapter(adapter({ vendor: 'x', description: 'gpu' }, { isFallbackAdapter: true })).software).toBe(true);
  });
});

describe('explainNoAdapter', () => {
  it('Linux without the Vulkan loader: says so and how to install it', () => {
    const r = explainNoAdapter('linux', { loader: false, icds: [] });
    expect(r.reason).toMatch(/no Vulkan loader \(libvulkan\.so\.1\)/);
    expect(r.install).toMatch(/apt install libvulkan1/);
  });
  it('Linux with the loader and no driver: names the drivers to install', () => {
    const r = explainNoAdapter('linux', { loader: true, icds: [] });
    expect(r.reason).toMatch(/no Vulkan driver \(ICD\)/);
    expect(r.install).toMatch(/NVIDIA.*mesa-vulkan-drivers.*VK_DRIVER_FILES/);
  });
  it('Linux with drivers Dawn rejected: lists them and points at a newer Mesa', () => {
    const r = explainNoAdapter('linux', { loader: true, icds: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'] });
    expect(r.reason).toMatch(/rejected every Vulkan driver found \(lvp_icd\.x86_64\.json\)/);
    expect(r.install).toMatch(/bookworm-backports/);
  });
  it('macOS and Windows name their native API', () => {
    expect(explainNoAdapter('darwin', null).reason).toMatch(/Metal/);
    expect(explainNoAdapter('win32', null).reason).toMatch(/Direct3D 12/);
  });
});

describe('the app.doctor report (what the status bar shows)', () => {
  it("keeps the adapter from doctor --json's ComputeInfo, so the UI can name the GPU", () => {
    const webgpu = { ...describeAdapter(adapter({ vendor: 'amd', architecture: 'rdna-3', device: '', description: 'AMD Radeon RX 7900 XTX' })) };
    const r = DoctorReport.parse({ backend: 'webgpu', threads: 1, tfjsVersion: '4.22.0', extraKernels: [], notes: [], gpu: { detected: true, inUse: true, detail: 'x' }, webgpu });
    expect(r.webgpu).toEqual({ vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX', software: false });
    expect(DoctorReport.parse({ backend: 'wasm', threads: 2, tfjsVersion: '4.22.0', extraKernels: [], notes: [], webgpu: null }).webgpu).toBeNull();
  });
});
