// Finds a WebGPU adapter through Dawn's Node binding (the optional `webgpu` package, prebuilt dawn.node for
// Linux/Windows/macOS) and says what it is: a hardware GPU, or a software rasteriser (llvmpipe/lavapipe,
// SwiftShader, WARP) that is ~1 GFLOP/s and must never be picked for real work. When there is no adapter it says
// why (no Vulkan loader, no Vulkan driver, a driver Dawn rejects) and what to install.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importOptional } from './optional-import';

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** llvmpipe, SwiftShader, WARP, or an adapter that says it is a fallback/CPU adapter */
  software: boolean;
  /** limits that bound training: the largest buffer, and the largest storage binding (one tensor in a kernel) */
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface WebGpuProbe {
  adapter: WebGpuAdapterInfo | null;
  /** why no adapter (or only a software one) was found, in words */
  reason?: string;
  /** what to install to get one */
  install?: string;
}

/** What a GPUAdapter exposes (typed loosely: `@webgpu/types` is not a dependency of the build). */
export interface AdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean; type?: string };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
  features: { has(name: string): boolean };
  requestDevice(desc?: unknown): Promise<unknown>;
}
export interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string; forceFallbackAdapter?: boolean }): Promise<AdapterLike | null>;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|software|warp|basic render driver/i;

/** Reads an adapter's identity; `software` from the fallback flag, a CPU type, or a known software driver's name. */
export function describeAdapter(a: AdapterLike): WebGpuAdapterInfo {
  const i = a.info ?? {};
  const vendor = String(i.vendor ?? '');
  const architecture = String(i.architecture ?? '');
  const device = String(i.device ?? '');
  const description = String(i.description ?? '');
  const software =
    a.isFallbackAdapter === true ||
    i.isFallbackAdapter === true ||
    /cpu/i.test(String(i.type ?? '')) ||
    SOFTWARE_NAMES.test([architecture, device, description].join(' '));
  return {
    vendor,
    architecture,
    device,
    description,
    software,
    maxBufferSize: Number(a.limits.maxBufferSize ?? 0),
    maxStorageBufferBindingSize: Number(a.limits.maxStorageBufferBindingSize ?? 0),
  };
}

/** "NVIDIA ampere (NVIDIA GeForce RTX 3080)" — for doctor and the Train screen. */
export function adapterName(a: WebGpuAdapterInfo): string {
  const head = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown vendor';
  const tail = a.description || a.device;
  return `${head}${tail ? ` (${tail})` : ''}${a.software ? ', software' : ''}`;
}

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/lib64', '/lib', '/usr/local/lib'];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** Linux only: is the Vulkan loader there, and which driver manifests (ICDs) would it load? */
export function vulkanInventory(env: NodeJS.ProcessEnv = process.env): { loader: boolean; icds: string[] } {
  const extra = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const loader = [...extra, ...LIB_DIRS].some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
  const listed = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
  const icds = listed.length
    ? listed.filter((f) => fs.existsSync(f))
    : ICD_DIRS.flatMap((d) => {
        try {
          return fs.readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => path.join(d, f));
        } catch {
          return [];
        }
      });
  return { loader, icds };
}

/** Why requestAdapter() gave nothing, with the install advice for this platform. */
export function explainNoAdapter(platform: NodeJS.Platform = process.platform, inv = platform === 'linux' ? vulkanInventory() : null): { reason: string; install: string } {
  if (platform === 'linux' && inv) {
    if (!inv.loader)
      return {
        reason: 'no Vulkan loader (libvulkan.so.1) is installed, so Dawn cannot reach any GPU driver',
        install: 'install the Vulkan loader (Debian/Ubuntu: apt install libvulkan1; Fedora: dnf install vulkan-loader; Arch: pacman -S vulkan-icd-loader) and your GPU\'s Vulkan driver',
      };
    if (inv.icds.length === 0)
      return {
        reason: 'the Vulkan loader is installed but no Vulkan driver (ICD) is registered',
        install: 'install your GPU\'s Vulkan driver: NVIDIA\'s proprietary driver (it ships nvidia_icd.json), or Mesa\'s mesa-vulkan-drivers for AMD and Intel; in a container, point VK_DRIVER_FILES at the driver mount\'s ICD json',
      };
    return {
      reason: `Dawn rejected every Vulkan driver found (${inv.icds.map((f) => path.basename(f)).join(', ')}); Mesa before 23 lacks features Dawn requires`,
      install: 'update the GPU driver (Debian bookworm: mesa-vulkan-drivers from bookworm-backports; NVIDIA: a driver ≥ 535)',
    };
  }
  if (platform === 'darwin') return { reason: 'Metal offered no adapter', install: 'macOS 13 or later on a Mac with a Metal GPU' };
  if (platform === 'win32') return { reason: 'Direct3D 12 offered no adapter', install: 'update the GPU driver (Windows 10 1909 or later with a D3D12 GPU)' };
  return { reason: `WebGPU has no backend on ${platform}`, install: 'none available for this platform' };
}

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

let dawn: { gpu: GpuLike } | null = null;

/** Dawn's GPU object (created once; the WebGPU globals such as GPUBufferUsage are installed with it). */
export async function loadDawn(): Promise<{ gpu: GpuLike } | { error: string; missing: boolean }> {
  if (dawn) return dawn;
  const m = await importOptional<DawnModule>('webgpu');
  if (!m.ok) return { error: m.missing ? 'the webgpu package (Dawn) is not installed' : m.reason, missing: m.missing };
  // Mesa prints a warning per process without a runtime dir; any writable folder silences it
  if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = os.tmpdir();
  for (const [k, v] of Object.entries(m.module.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  dawn = { gpu: m.module.create([]) };
  return dawn;
}

export const INSTALL_WEBGPU = 'npm ci (restores the optional webgpu package, which ships dawn.node for Linux, Windows and macOS)';

/** The high-performance adapter, described; null with the reason when there is none. */
export async function probeWebGpu(): Promise<WebGpuProbe & { raw?: AdapterLike; gpu?: GpuLike }> {
  const d = await loadDawn();
  if ('error' in d) return { adapter: null, reason: d.error, install: INSTALL_WEBGPU };
  let raw: AdapterLike | null = null;
  try {
    raw = await d.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { adapter: null, reason: `requestAdapter failed: ${(err as Error).message.split('\n')[0]}`, install: explainNoAdapter().install };
  }
  if (!raw) return { adapter: null, ...explainNoAdapter() };
  const adapter = describeAdapter(raw);
  return { adapter, raw, gpu: d.gpu };
}
