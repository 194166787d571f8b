// Layer-exact parity with the authors' PyTorch HST on the cpu backend (fixtures/hst_tiny, eval mode).
import { describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { fmtErrors, parityErrors, PARITY_TENSORS, PARITY_TOL } from './parity-helper';

describe("HST parity with the authors' PyTorch model, cpu backend", () => {
  it('reproduces every ViT block, the stem, the 4 stages and the logits (rel. error < 1e-4)', async () => {
    await initCompute({ backend: 'cpu' });
    const errs = await parityErrors();
    console.log(`parity (cpu): ${fmtErrors(errs)}`);
    expect(Object.keys(errs).sort()).toEqual([...PARITY_TENSORS].sort());
    for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThan(PARITY_TOL);
  });
});
