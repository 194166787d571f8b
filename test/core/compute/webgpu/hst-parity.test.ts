// Layer-exact parity with the authors' PyTorch HST on the webgpu backend (fixtures/hst_tiny, eval mode): the
// same check as test/core/model/hst-parity.test.ts, with every tensor read back asynchronously (webgpu cannot
// read synchronously in Node).
import { describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { fixtureModel, PARITY_TENSORS, PARITY_TOL } from '../../model/parity-helper';
import { readFixture } from '../../model/fixtures';
import { toFloat32 } from '../../../../src-main/core/io/safetensors';
import { failInCiWithoutAdapter, normRel, webgpuGate } from './webgpu-gate';

const gate = await webgpuGate();

describe.skipIf(!gate.run)(`HST parity with the authors' PyTorch model, webgpu backend (${gate.reason})`, () => {
  it('reproduces every ViT block, the stem, the 4 stages and the logits (rel. error < 1e-4)', async () => {
    const info = await initCompute({ backend: 'webgpu' });
    expect(info.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const ref = await readFixture('hst_tiny', 'tensors.safetensors');
    const want = (name: string) => toFloat32(ref.tensors.get(name)!, name);
    const model = await fixtureModel();
    const inp = ref.tensors.get('input')!;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(toFloat32(inp, 'input'), inp.shape as [number, number, number, number]), [0, 2, 3, 1])); // NCHW → NHWC
    const t0 = Date.now();
    const out = model.forward(x, { training: false, keepTokens: true });
    const got: Record<string, tf.Tensor> = { stem: out.stem, logits: out.logits! };
    out.vit.tokens!.forEach((t, i) => (got[`vit_block${i}`] = t));
    out.stages.forEach((s, i) => (got[`stage${i + 1}`] = s)); // NHWC [b,h,w,c] = the fixture's [b, h·w, c] in memory order
    const errs: Record<string, number> = {};
    for (const [name, t] of Object.entries(got)) errs[name] = normRel(await t.data(), want(name));
    console.log(`webgpu forward + read-back ${Date.now() - t0} ms`);
    console.log(`parity (webgpu): ${Object.entries(errs).map(([k, v]) => `${k}=${v.toExponential(2)}`).join(' ')}`);
    expect(Object.keys(errs).sort()).toEqual([...PARITY_TENSORS].sort());
    for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThan(PARITY_TOL);
    tf.dispose([x, ...Object.values(got)]);
    model.dispose();
  }, 600_000); // lavapipe compiles every shader with LLVM: the first pass of each kernel is slow
});
failInCiWithoutAdapter(gate);
