// Test setup for the head/loss/optimizer tests: the deterministic pure-JS cpu backend (the compute engine
// registers the gradient functions).
import { initCompute, tf } from '../../../../src-main/core/compute/engine';

export async function setupTf(): Promise<void> {
  await initCompute({ backend: 'cpu' });
}

export function allFinite(t: tf.Tensor): boolean {
  return Array.from(t.dataSync()).every(Number.isFinite);
}

/** Deterministic pseudo-random numbers for synthetic test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
