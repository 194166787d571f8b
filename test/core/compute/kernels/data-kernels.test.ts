// UnsortedSegmentSum (added to wasm), and the O(output) Slice and transposing BatchMatMul
// (replacing wasm's own), against the cpu backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { unsortedSegmentSum } from '../../../../src-main/core/compute/kernels/unsorted-segment-sum';
import { slice } from '../../../../src-main/core/compute/kernels/slice';
import { batchMatMul } from '../../../../src-main/core/compute/kernels/batch-matmul';
import { splitV } from '../../../../src-main/core/compute/kernels/split-v';
import { unpack } from '../../../../src-main/core/compute/kernels/unpack';
import { identity } from '../../../../src-main/core/compute/kernels/identity';
import { cast } from '../../../../src-main/core/compute/kernels/cast';
import { leadingSplit, meanLeading, sumLeading } from '../../../../src-main/core/compute/kernels/reduce-leading';
import { compareBackends, kernel, rand, randoms } from '../helpers/compare';

const TOL = 1e-5;

beforeAll(async () => {
  expect((await initCompute({ backend: 'wasm' })).backend).toBe('wasm');
});

it('registers the kernels on wasm', () => {
  for (const k of [unsortedSegmentSum, slice, batchMatMul, identity, cast, sumLeading, meanLeading]) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
});

describe('UnsortedSegmentSum', () => {
  const cases: { x: number[]; ids: number[]; idShape: number[]; n: number }[] = [
    { x: [7, 3, 4], ids: [0, 4, 2, 0, 4, 4, 1], idShape: [7], n: 5 },
    { x: [6], ids: [1, 1, 1, 0, 2, 2], idShape: [6], n: 4 },
    { x: [2, 3, 5], ids: [0, 2, 2, 1, 0, 2], idShape: [2, 3], n: 3 },
    // Out-of-range ids are dropped, as TensorFlow does.
    { x: [5, 2], ids: [0, -1, 3, 7, 3], idShape: [5], n: 4 },
  ];
  for (const c of cases)
    it(`x ${c.x}, ids ${c.ids}, ${c.n} segments`, async () => {
      const r = await compareBackends(() => {
        const x = rand(c.x, 11);
        const ids = tf.tensor(c.ids, c.idShape, 'int32');
        // The cpu kernel handles only 1-D ids; its reference sees ids and rows flattened alike.
        if (tf.getBackend() === 'cpu' && c.idShape.length > 1)
          return kernel('UnsortedSegmentSum', { x: tf.reshape(x, [c.ids.length, -1]), segmentIds: tf.reshape(ids, [-1]) }, { numSegments: c.n });
        return kernel('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: c.n });
      });
      expect(r.wasmShape).toEqual([c.n, ...c.x.slice(c.idShape.length)]);
      expect(r.wasm.length).toBe(r.cpu.length);
      expect(r.relErr).toBeLessThan(TOL);
    });
  it('sums int32 data exactly', async () => {
    const r = await compareBackends(() =>
      kernel('UnsortedSegmentSum', { x: tf.tensor([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), segmentIds: tf.tensor([1, 0, 1], [3], 'int32') }, { numSegments: 2 }),
    );
    expect(Array.from(r.wasm)).toEqual([3, 4, 6, 8]);
  });
});

describe('Slice', () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [10], begin: [3], size: [4] },
    { shape: [12, 19, 19], begin: [5, 0, 0], size: [1, 19, 19] },
    { shape: [4, 7, 9], begin: [1, 2, 3], size: [2, 4, 5] },
    { shape: [2, 6, 5, 3], begin: [0, 1, 0, 1], size: [2, 3, 5, 2] },
    { shape: [3, 4, 2, 5, 3], begin: [1, 0, 1, 2, 0], size: [2, 4, 1, 3, 3] },
    { shape: [3, 4, 2, 5, 3, 2], begin: [0, 1, 0, 1, 1, 1], size: [3, 2, 2, 4, 1, 1] },
    { shape: [5, 4], begin: [2, 0], size: [-1, -1] },
    { shape: [5, 4], begin: [2, 1], size: [0, 3] },
  ];
  for (const c of cases)
    it(`shape ${c.shape}, begin ${c.begin}, size ${c.size}`, async () => {
      const r = await compareBackends(() => tf.slice(rand(c.shape, 12), c.begin, c.size));
      expect(r.wasmShape).toEqual(r.cpuShape);
      expect(r.relErr).toBe(0);
    });
  it('keeps int32 and bool values', async () => {
    const ints = await compareBackends(() => tf.slice(tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32'), [0, 1], [2, 2]));
    expect(Array.from(ints.wasm)).toEqual([2, 3, 5, 6]);
    const bools = await compareBackends(() => tf.slice(tf.tensor([true, false, true, true], [4], 'bool'), [1], [3]));
    expect(Array.from(bools.wasm)).toEqual([0, 1, 1]);
  });
});

describe('BatchMatMul', () => {
  const cases: { a: number[]; b: number[] }[] = [
    { a: [4, 5], b: [5, 6] },
    { a: [3, 4, 5], b: [3, 5, 6] },
    { a: [3, 4, 5], b: [5, 6] },
    { a: [4, 5], b: [3, 5, 6] },
    { a: [1, 4, 5], b: [3, 5, 6] },
    { a: [2, 1, 4, 5], b: [3, 5, 6] },
    { a: [2, 3, 4, 5], b: [2, 3, 5, 6] },
  ];
  for (const c of cases)
    for (const ta of [false, true])
      for (const tb of [false, true])
        it(`a ${c.a}${ta ? 'ᵀ' : ''} × b ${c.b}${tb ? 'ᵀ' : ''}`, async () => {
          const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
          const r = await compareBackends(() => {
            let a = rand(swap(c.a, ta), 13);
            let b = rand(swap(c.b, tb), 14);
            // tfjs's cpu BatchMatMul returns too few values when both operands broadcast (a [2,1,..] ×
            // b [3,..]); the reference gets operands already broadcast to the full batch.
            if (tf.getBackend() === 'cpu') {
              const batch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
              a = tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
              b = tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
            }
            return tf.matMul(a, b, ta, tb);
          });
          expect(r.wasmShape).toEqual(r.cpuShape);
          expect(r.relErr).toBeLessThan(TOL);
        });
  it('leaves int32 products to the stock kernel, which refuses them with its own message', () => {
    expect(() => tf.matMul(tf.tensor([[1]], [1, 1], 'int32'), tf.tensor([[2]], [1, 1], 'int32'), true, false)).toThrow(/float32/);
  });
  it('agrees with a hand computation', async () => {
    const a = tf.tensor(randoms(6, 15), [2, 3]);
    const out = await tf.matMul(a, a, false, true).data();
    const av = a.dataSync();
    const dot = (i: number, j: number) => av[i * 3] * av[j * 3] + av[i * 3 + 1] * av[j * 3 + 1] + av[i * 3 + 2] * av[j * 3 + 2];
    expect(out[1]).toBeCloseTo(dot(0, 1), 5);
    expect(out[3]).toBeCloseTo(dot(1, 1), 5);
  });
});

describe('SplitV and Unpack', () => {
  it('registers both on wasm', () => {
    expect(tf.getKernel('SplitV', 'wasm')?.kernelFunc).toBe(splitV.kernelFunc);
    expect(tf.getKernel('Unpack', 'wasm')?.kernelFunc).toBe(unpack.kernelFunc);
  });
  const splits: { shape: number[]; sizes: number | number[]; axis: number }[] = [
    { shape: [6, 12], sizes: 3, axis: 1 },
    { shape: [4, 5, 6], sizes: [1, 3, 1], axis: 1 },
    { shape: [4, 5, 6], sizes: [2, -1], axis: 0 },
    { shape: [2, 3, 4, 5], sizes: 5, axis: -1 },
  ];
  for (const c of splits)
    it(`split ${c.shape} by ${JSON.stringify(c.sizes)} on axis ${c.axis}`, async () => {
      const r = await compareBackends(() => tf.concat(tf.split(rand(c.shape, 16), c.sizes, c.axis).map((p, i) => tf.mul(p, i + 1)), c.axis));
      expect(r.wasmShape).toEqual(c.shape);
      expect(r.relErr).toBe(0);
    });
  for (const axis of [0, 1, 2, -1])
    it(`unstack [3,4,5] on axis ${axis}`, async () => {
      const r = await compareBackends(() => tf.stack(tf.unstack(rand([3, 4, 5], 17), axis).map((p, i) => tf.mul(p, i + 1))));
      expect(r.wasmShape).toEqual(r.cpuShape);
      expect(r.relErr).toBe(0);
    });
  it('unstacks int32 with the right shapes', () => {
    const parts = tf.unstack(tf.tensor([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), 1);
    expect(parts.map((p) => p.shape)).toEqual([[3], [3]]);
    expect(Array.from(parts[1].dataSync())).toEqual([2, 4, 6]);
  });
});

describe('Sum and Mean over leading axes', () => {
  it('takes the product path only for leading axes with something kept', () => {
    expect(leadingSplit([8, 64, 64, 32], [0, 1, 2])).toEqual({ rows: 8 * 64 * 64, cols: 32 });
    expect(leadingSplit([8, 64, 64, 32], [1, 0])).toEqual({ rows: 512, cols: 64 * 32 });
    expect(leadingSplit([8, 64, 32], [1])).toBeNull(); // not leading
    expect(leadingSplit([8, 32], [0, 1])).toBeNull(); // everything reduced
    expect(leadingSplit([1, 32], [0])).toBeNull(); // one row: nothing to add
  });
  const cases: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
    { shape: [8, 16, 16, 32], axis: [0, 1, 2] }, // a conv bias gradient
    { shape: [1, 2048, 24], axis: [0, 1] }, // a linear layer's bias gradient
    { shape: [6, 5, 7], axis: 0, keepDims: true },
    { shape: [3, 4, 5, 6], axis: [1, 0] },
    { shape: [4, 9, 3], axis: 1 }, // middle axis: the stock kernel
    { shape: [5, 7], axis: [0, 1] }, // everything: the stock kernel
    { shape: [5, 7], axis: -1 },
  ];
  for (const op of ['sum', 'mean'] as const)
    for (const c of cases)
      it(`${op} of ${JSON.stringify(c.shape)} over ${JSON.stringify(c.axis)}${c.keepDims ? ' (keepDims)' : ''}`, async () => {
        const r = await compareBackends(() => tf[op](rand(c.shape, 21), c.axis, c.keepDims));
        const want = tf.tidy(() => tf[op](tf.zeros(c.shape), c.axis, c.keepDims).shape);
        expect(r.wasmShape).toEqual(want);
        expect(r.relErr).toBeLessThan(TOL);
      });
  it('gives the bias gradient of a broadcast add', async () => {
    const r = await compareBackends(() => tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(rand([4, 8, 8, 16], 3), b), rand([4, 8, 8, 16], 4))))(rand([16], 5)));
    expect(r.wasmShape).toEqual([16]);
    expect(r.relErr).toBeLessThan(TOL);
  });
  it('leaves int32 sums to the stock kernel', () => {
    const s = tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), 0);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([4, 6]);
    s.dispose();
  });
});

describe('Identity', () => {
  it('a clone shares the data (no copy) and outlives its source', () => {
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const c = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers); // still one buffer: nothing was copied
    expect(c.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.shape).toEqual([2, 3]);
    c.dispose();
  });

  it('gradients through saved tensors stay right (the tape clones what kernels save)', () => {
    const x = tf.tensor([0.5, -1, 2, 3], [2, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.exp(v), v)))(x); // d/dv v·e^v = e^v (1 + v)
    const want = [0.5, -1, 2, 3].map((v) => Math.exp(v) * (1 + v));
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    tf.dispose([x, g]);
  });

  it('clones strings through the stock kernel', () => {
    const s = tf.tensor(['a', 'bc']);
    const c = tf.clone(s);
    s.dispose();
    expect(c.dataSync()).toEqual(['a', 'bc']);
    c.dispose();
  });
});

describe('Cast', () => {
  it('to the same dtype shares the data', () => {
    const x = tf.tensor([1.5, -2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const c = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1.5, -2, 3]);
    c.dispose();
  });

  it('to another dtype converts, through the stock kernel', () => {
    const x = tf.tensor([1.7, -2.2, 0]);
    const i = tf.cast(x, 'int32');
    expect(i.dtype).toBe('int32');
    expect(i.dataId).not.toBe(x.dataId);
    expect(Array.from(i.dataSync())).toEqual([1, -2, 0]);
    tf.dispose([x, i]);
  });
});
