// A threaded wasm start that hangs must not reach users: past the time limit the engine abandons it
// (terminating its workers) and starts the single-threaded build. A 1 ms limit forces that path.
import { beforeAll, expect, it } from 'vitest';
import { initCompute, tf, type ComputeInfo } from '../../../src-main/core/compute/engine';

let info: ComputeInfo;
beforeAll(async () => {
  process.env.HST_WASM_START_TIMEOUT_MS = '1';
  try {
    info = await initCompute({ backend: 'wasm', threads: 2 });
  } finally {
    delete process.env.HST_WASM_START_TIMEOUT_MS;
  }
});

it('falls back to one thread with a note', () => {
  expect(info.backend).toBe('wasm');
  expect(info.threads).toBe(1);
  expect(info.threadMode).toBe('wasm-single');
  expect(info.notes.join(' ')).toMatch(/did not start within 0\.001 s; using 1 thread/);
});

it('still computes, with the extra kernels', async () => {
  expect(info.extraKernels).toContain('Conv2DBackpropFilter');
  const g = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 5, 5, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')));
  // Each of the 4×4 output positions sees every tap once on an all-ones input.
  expect(Array.from(await g(tf.zeros([2, 2, 1, 1])).data())).toEqual([16, 16, 16, 16]);
});
