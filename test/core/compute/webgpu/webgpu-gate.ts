// The webgpu test group runs on whatever adapter Dawn finds: in CI, Mesa's software Vulkan driver (lavapipe),
// which .ci/run installs. On a machine without one the group is skipped with the reason printed (a skip, never a
// pass); with CI=true a missing adapter is a failure, because .ci/run was supposed to provide it.
import { it } from 'vitest';
import { probeWebGpu, adapterName } from '../../../../src-main/core/compute/webgpu-adapter';

export interface Gate {
  run: boolean;
  reason: string;
}

let gate: Gate | null = null;

export async function webgpuGate(): Promise<Gate> {
  if (gate) return gate;
  const p = await probeWebGpu();
  gate = p.adapter
    ? { run: true, reason: `WebGPU adapter: ${adapterName(p.adapter)}` }
    : { run: false, reason: `no WebGPU adapter: ${p.reason}${p.install ? ` (to get one: ${p.install})` : ''}` };
  if (!gate.run) console.warn(`webgpu tests SKIPPED — ${gate.reason}`);
  return gate;
}

/** Registers a test that fails in CI when there is no adapter (lavapipe should have been installed there). */
export function failInCiWithoutAdapter(g: Gate): void {
  if (g.run || process.env.CI !== 'true') return;
  it('has a WebGPU adapter in CI (.ci/run installs lavapipe)', () => {
    throw new Error(`CI=true but ${g.reason}: .ci/run installs mesa-vulkan-drivers from bookworm-backports and libvulkan1`);
  });
}

/** max |a − b| / max |b| */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** ‖a − b‖ / ‖b‖ (the parity tests' measure) */
export function normRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
