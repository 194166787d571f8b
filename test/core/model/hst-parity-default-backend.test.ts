// The same parity check on the engine's default backend (what the app and CLI run on).
import { describe, expect, it } from 'vitest';
import { initCompute } from '../../../src-main/core/compute/engine';
import { fmtErrors, parityErrors, PARITY_TENSORS, PARITY_TOL } from './parity-helper';

describe("HST parity with the authors' PyTorch model, default compute backend", () => {
  it('reproduces every reference tensor (rel. error < 1e-4)', async () => {
    const info = await initCompute();
    const errs = await parityErrors();
    console.log(`parity (${info.backend}): ${fmtErrors(errs)}`);
    expect(Object.keys(errs).sort()).toEqual([...PARITY_TENSORS].sort());
    for (const [name, e] of Object.entries(errs)) expect(e, `${name} on ${info.backend}`).toBeLessThan(PARITY_TOL);
  });
});
