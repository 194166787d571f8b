// `hst-studio features` on the reference fixture reproduces the authors' PyTorch tensors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main';
import { tf } from '../../src-main/core/compute/engine';
import { readSafetensors } from '../../src-main/core/io/safetensors';
import { fixturePath, fixtureTensor, readFixture, relError } from '../core/model/fixtures';

describe('hst-studio features', () => {
  it('writes every fixture tensor (except the input) with the same shape and rel. error < 1e-4', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'feat-')), 'out.safetensors');
    const rc = await main(['features', '--config', fixturePath('hst_tiny', 'config.json'), '--weights', fixturePath('hst_tiny', 'weights.safetensors'),
      '--input', fixturePath('hst_tiny', 'tensors.safetensors'), '--out', out]);
    expect(rc).toBe(0);
    const ref = await readFixture('hst_tiny', 'tensors.safetensors');
    const mine = await readSafetensors(out);
    const names = [...ref.tensors.keys()].filter((n) => n !== 'input').sort();
    expect([...mine.tensors.keys()].sort()).toEqual(names);
    for (const n of names) {
      expect(mine.tensors.get(n)!.shape, n).toEqual(ref.tensors.get(n)!.shape);
      const e = tf.tidy(() => relError(fixtureTensor(mine, n), fixtureTensor(ref, n)));
      expect(e, n).toBeLessThan(1e-4);
    }
  });

  it('explains a missing input key and a missing flag', async () => {
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errs.push(String(m));
    try {
      const out = join(mkdtempSync(join(tmpdir(), 'feat-')), 'o.safetensors');
      const common = ['--config', fixturePath('hst_tiny', 'config.json'), '--weights', fixturePath('hst_tiny', 'weights.safetensors'), '--input', fixturePath('hst_tiny', 'tensors.safetensors')];
      expect(await main(['features', ...common, '--input-key', 'nope', '--out', out])).toBe(1);
      expect(await main(['features', ...common])).toBe(1);
    } finally {
      console.error = orig;
    }
    expect(errs[0]).toMatch(/no tensor 'nope'/);
    expect(errs[1]).toMatch(/--out is required/);
  });
});
