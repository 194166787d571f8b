// The shared flat layout of parameters: offsets, a write/assign round trip through shared memory, and the
// check that refuses a helper whose model differs from the trainer's.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { assignVariables, checkLayout, flatLayout, sharedFloats, writeVariables } from '../../../../src-main/core/training/parallel/flat-params';

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
});

describe('flat parameter layout', () => {
  it('lays parameters end to end and round-trips them through shared memory', () => {
    const a = tf.variable(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), true, 'flat-a');
    const b = tf.variable(tf.tensor1d([7, 8]), true, 'flat-b');
    const params = [{ name: 'a', variable: a }, { name: 'b', variable: b }];
    const layout = flatLayout(params);
    expect(layout).toEqual({ entries: [{ name: 'a', shape: [2, 3], offset: 0, size: 6 }, { name: 'b', shape: [2], offset: 6, size: 2 }], size: 8 });
    const mem = sharedFloats(layout);
    expect(mem.buffer).toBeInstanceOf(SharedArrayBuffer);
    writeVariables(layout, [a, b], mem);
    expect(Array.from(mem)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    mem.set([9, 10], 6);
    assignVariables(layout, [a, b], mem);
    mem.fill(0); // the variables hold copies, not views on the shared memory
    expect(Array.from(b.dataSync())).toEqual([9, 10]);
    expect(Array.from(a.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    a.dispose();
    b.dispose();
  });

  it('names the first parameter that differs between trainer and helper', () => {
    const layout = flatLayout([{ name: 'x', variable: { shape: [2, 2] } }, { name: 'y', variable: { shape: [3] } }]);
    expect(() => checkLayout(layout, [{ name: 'x', variable: { shape: [2, 2] } }, { name: 'y', variable: { shape: [4] } }])).toThrow(/parameter 1 is y \[3\] in the trainer but y \[4\] in the helper/);
    expect(() => checkLayout(layout, [{ name: 'x', variable: { shape: [2, 2] } }])).toThrow(/optimises 2 parameters, the helper's model has 1/);
    expect(() => checkLayout(layout, [{ name: 'x', variable: { shape: [2, 2] } }, { name: 'y', variable: { shape: [3] } }])).not.toThrow();
  });
});
