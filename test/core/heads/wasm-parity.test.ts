// The heads must train on the production backend (wasm) exactly like on the reference cpu backend:
// every op they use needs a wasm forward and gradient kernel (or the compute engine's replacement).
import { describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { MultiTaskHeads } from '../../../src-main/core/heads/multi-task';
import { randomStages } from './helpers/train';

const S = 32;
function rect(x1: number, y1: number, x2: number, y2: number): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) m[y * S + x] = 1;
  return m;
}

async function lossAndGrads(backend: string): Promise<{ backend: string; parts: Record<string, number>; grads: Record<string, Float32Array> }> {
  const info = await initCompute({ backend });
  const SMALL = [8, 16, 24, 32];
  const heads = new MultiTaskHeads({ stageChannels: SMALL, numClasses: 2, tasks: ['instance', 'semantic', 'classify'], fpnWidth: 16, towerDepth: 1, maskBranchDepth: 2, detStrides: [8, 16], seed: 3 });
  const images = [
    { boxes: [2, 2, 18, 26, 16, 10, 30, 30], labels: [0, 1], masks: [rect(2, 2, 18, 26), rect(16, 10, 30, 30)], classLabel: 0 },
    { boxes: [4, 4, 28, 20], labels: [1], masks: [rect(4, 4, 28, 20)], classLabel: 1 },
  ];
  const t = heads.prepareTargets(images, [S, S]);
  const stages = randomStages(2, S, SMALL, 7);
  const trainable = heads.params().filter((p) => !p.buffer);
  const parts: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const r = heads.loss(stages, t);
    for (const [k, v] of Object.entries(r.parts)) parts[k] = v.dataSync()[0];
    return r.total;
  }, trainable.map((p) => p.variable));
  const out: Record<string, Float32Array> = {};
  for (const p of trainable) out[p.name] = grads[p.variable.name].dataSync() as Float32Array;
  tf.dispose([value, ...Object.values(grads), ...stages]);
  heads.dispose();
  return { backend: info.backend, parts, grads: out };
}

describe('heads on the wasm backend', () => {
  it('loss parts and gradients match the cpu backend', async () => {
    const cpu = await lossAndGrads('cpu');
    const wasm = await lossAndGrads('wasm');
    expect(wasm.backend, 'the wasm backend did not start (see initCompute notes)').toBe('wasm');
    for (const [k, v] of Object.entries(cpu.parts)) expect(wasm.parts[k]).toBeCloseTo(v, 3);
    const bad: string[] = [];
    for (const [name, g] of Object.entries(cpu.grads)) {
      const w = wasm.grads[name];
      let maxAbs = 0;
      let maxDiff = 0;
      for (let i = 0; i < g.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(g[i]));
        maxDiff = Math.max(maxDiff, Math.abs(g[i] - w[i]));
      }
      if (maxDiff > 1e-3 * maxAbs + 1e-6) bad.push(`${name} ${maxDiff.toExponential(2)}/${maxAbs.toExponential(2)}`);
    }
    expect(bad).toEqual([]);
  }, 240_000);
});
