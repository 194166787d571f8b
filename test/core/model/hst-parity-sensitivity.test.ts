// The parity test must be able to fail: each known trap, applied alone, pushes some tensor past the tolerance.
// Note: the fixture's random weights give pre-norm activations with std ~10²–10³, so an eps change of 1e-6 ↔ 1e-5
// moves outputs by < 1e-5 relative and is invisible at 1e-4; the eps cases below use the smallest changes the
// fixture can resolve.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import type { HstModel } from '../../../src-main/core/model/hst';
import { fmtErrors, parityErrors, PARITY_TOL } from './parity-helper';

const worst = (errs: Record<string, number>) => Math.max(...Object.values(errs));

const TRAPS: Record<string, (m: HstModel) => void> = {
  'ViT block 5 LayerNorm eps 1e-6 → 1e-3': (m) => (m.vit.blocks[5].d.eps = 1e-3),
  'stem BatchNorm eps 1e-5 → 1e-2': (m) => (m.side.stem.bnEps = 1e-2),
  'stem LayerNorm eps 1e-5 → 1e-3': (m) => (m.side.stem.lnEps = 1e-3),
  'fc_norm BatchNorm eps 1e-6 → 1e-3': (m) => (m.head!.eps = 1e-3),
  'bilinear resize with halfPixelCenters=false (tfjs default)': (m) => m.side.bridges.forEach((b) => (b.halfPixelCenters = false)),
  'one Linear weight not transposed from (out,in)': (m) => {
    const w = m.vit.blocks[3].projW;
    w.assign(tf.transpose(w));
  },
  'MetaT of layer 4 zeroed': (m) => m.meta.tokens[4].assign(tf.zerosLike(m.meta.tokens[4])),
  'stem BatchNorm running variance ignored (taken as 1)': (m) => m.side.stem.bnVar.assign(tf.onesLike(m.side.stem.bnVar)),
};

describe('parity sensitivity', () => {
  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
  });
  it('the unmodified model is within tolerance', async () => {
    expect(worst(await parityErrors())).toBeLessThan(PARITY_TOL);
  });
  for (const [name, trap] of Object.entries(TRAPS)) {
    it(`breaks parity: ${name}`, async () => {
      const errs = await parityErrors(trap);
      expect(worst(errs), fmtErrors(errs)).toBeGreaterThan(PARITY_TOL);
    });
  }
});
