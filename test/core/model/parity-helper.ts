// Runs the fixture HST (fixtures/hst_tiny) and returns ‖a−b‖/‖b‖ for every reference tensor.
import { tf } from '../../../src-main/core/compute/engine';
import { HstModel } from '../../../src-main/core/model/hst';
import { loadState, readConfigFile } from '../../../src-main/core/model/weights';
import { fixturePath, fixtureTensor, readFixture, relError } from './fixtures';

export const PARITY_TOL = 1e-4;
export const PARITY_TENSORS = [...Array.from({ length: 12 }, (_, i) => `vit_block${i}`), 'stem', 'stage1', 'stage2', 'stage3', 'stage4', 'logits'];

export async function fixtureModel(): Promise<HstModel> {
  const cfg = await readConfigFile(fixturePath('hst_tiny', 'config.json'));
  const weights = await readFixture('hst_tiny', 'weights.safetensors');
  const model = new HstModel(cfg, { backbone: 'pending' });
  loadState(model, weights.tensors, { source: 'fixtures/hst_tiny/weights.safetensors' });
  model.backboneSource = { kind: 'checkpoint', file: 'fixtures/hst_tiny/weights.safetensors' };
  return model;
}

export async function parityErrors(mutate?: (m: HstModel) => void): Promise<Record<string, number>> {
  const ref = await readFixture('hst_tiny', 'tensors.safetensors');
  const model = await fixtureModel();
  mutate?.(model);
  const errs: Record<string, number> = {};
  try {
    tf.tidy(() => {
      const x = tf.transpose(fixtureTensor(ref, 'input'), [0, 2, 3, 1]) as tf.Tensor4D; // NCHW → NHWC
      const out = model.forward(x, { training: false, keepTokens: true });
      out.vit.tokens!.forEach((t, i) => (errs[`vit_block${i}`] = relError(t, fixtureTensor(ref, `vit_block${i}`))));
      errs.stem = relError(out.stem, fixtureTensor(ref, 'stem'));
      out.stages.forEach((s, i) => {
        const [b, h, w, c] = s.shape;
        errs[`stage${i + 1}`] = relError(tf.reshape(s, [b, h * w, c]), fixtureTensor(ref, `stage${i + 1}`));
      });
      errs.logits = relError(out.logits!, fixtureTensor(ref, 'logits'));
    });
  } finally {
    model.dispose();
  }
  return errs;
}

export const fmtErrors = (errs: Record<string, number>) => Object.entries(errs).map(([k, v]) => `${k}=${v.toExponential(2)}`).join(' ');
