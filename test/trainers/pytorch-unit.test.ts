// The PyTorch trainer's own tests (trainers/pytorch/tests: HST against the authors' fixture layer by layer,
// safetensors, RNG, schedule, polygon rasterisation), run with python's unittest as part of `npm test`.
import { describe, expect, it } from 'vitest';
import { findTorchPython, runPython, torchAvailable } from './python-env';

const ok = torchAvailable();

describe.runIf(ok || process.env.CI)('trainers/pytorch unit tests (python -m unittest)', () => {
  it('pass', () => {
    if (!ok) throw new Error(findTorchPython().reason!);
    const r = runPython(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], { timeout: 300_000 });
    console.log(r.stderr.trim().split('\n').filter((l) => / \.\.\. /.test(l)).join('\n'));
    expect(r.stderr).toMatch(/Ran [1-9]\d* tests?/);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(/\nOK\s*$/);
  });
});
