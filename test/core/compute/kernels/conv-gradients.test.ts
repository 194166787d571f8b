// The conv gradient kernels we add to / replace in wasm, against the cpu backend's reference kernels.
import { beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../../src-main/core/compute/engine';
import { conv2dBackpropFilter } from '../../../../src-main/core/compute/kernels/conv2d-backprop-filter';
import { conv2dBackpropInput } from '../../../../src-main/core/compute/kernels/conv2d-backprop-input';
import { depthwiseBackpropFilter } from '../../../../src-main/core/compute/kernels/depthwise-backprop-filter';
import { depthwiseBackpropInput } from '../../../../src-main/core/compute/kernels/depthwise-backprop-input';
import { compareBackends, kernel, rand } from '../helpers/compare';

const TOL = 1e-5;
type Pad = 'same' | 'valid' | number[][];
const explicit: Pad = [[0, 0], [1, 2], [0, 1], [0, 0]];
const pads: Pad[] = ['same', 'valid', explicit];
const strides: [number, number][] = [[1, 1], [2, 2], [2, 1]];

/** Output spatial size of the forward conv, from tfjs's own shape logic. */
function outShape(x: number[], f: number[], s: [number, number], pad: Pad, d: [number, number] = [1, 1], depthwise = false) {
  const info = tf.backend_util.computeConv2DInfo(x as never, f as never, s, d, pad as never, undefined, depthwise);
  return [x[0], info.outHeight, info.outWidth, depthwise ? x[3] * f[3] : f[3]];
}

beforeAll(async () => {
  const info = await initCompute({ backend: 'wasm' });
  expect(info.backend).toBe('wasm');
});

describe('registration', () => {
  it('puts our kernels on wasm', () => {
    for (const k of [conv2dBackpropFilter, conv2dBackpropInput, depthwiseBackpropFilter, depthwiseBackpropInput])
      expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
  });
});

describe('Conv2DBackpropFilter', () => {
  for (const k of [1, 2, 3, 5])
    for (const s of strides)
      for (const pad of pads)
        it(`kernel ${k}x${k}, strides ${s}, pad ${JSON.stringify(pad)}`, async () => {
          const xShape = [2, 9, 11, 3];
          const fShape = [k, k, 3, 4];
          const dyShape = outShape(xShape, fShape, s, pad);
          const r = await compareBackends(() =>
            kernel('Conv2DBackpropFilter', { x: rand(xShape, 1), dy: rand(dyShape, 2) }, { strides: s, pad, dataFormat: 'NHWC', filterShape: fShape }),
          );
          expect(r.wasmShape).toEqual(fShape);
          expect(r.relErr).toBeLessThan(TOL);
        });
  it('a non-square filter with NCHW data', async () => {
    const r = await compareBackends(() => {
      const x = rand([1, 3, 8, 7], 3);
      const dy = rand([1, 5, 4, 4], 4);
      // cpu does not implement NCHW; both compute on NHWC transposes of the same data.
      if (tf.getBackend() === 'cpu')
        return kernel('Conv2DBackpropFilter', { x: tf.transpose(x, [0, 2, 3, 1]), dy: tf.transpose(dy, [0, 2, 3, 1]) }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 2, 3, 5] });
      return kernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 2, 3, 5] });
    });
    expect(r.relErr).toBeLessThan(TOL);
  });
});

describe('Conv2DBackpropInput', () => {
  // strided convs run phase by phase: a stride larger than the kernel leaves phases without any tap
  for (const k of [1, 2, 3, 5])
    for (const s of [...strides, [3, 3], [3, 2]] as [number, number][])
      for (const pad of pads)
        it(`kernel ${k}x${k}, strides ${s}, pad ${JSON.stringify(pad)}`, async () => {
          const xShape = [2, 9, 11, 3];
          const fShape = [k, k, 3, 4];
          const dyShape = outShape(xShape, fShape, s, pad);
          const r = await compareBackends(() =>
            kernel('Conv2DBackpropInput', { dy: rand(dyShape, 5), filter: rand(fShape, 6) }, { strides: s, pad, dataFormat: 'NHWC', inputShape: xShape }),
          );
          expect(r.wasmShape).toEqual(xShape);
          expect(r.relErr).toBeLessThan(TOL);
        });
});

describe('DepthwiseConv2dNativeBackpropFilter / Input', () => {
  const cases: { k: number; s: [number, number]; d: [number, number]; m: number }[] = [];
  for (const k of [1, 3, 5]) for (const s of [[1, 1], [2, 2]] as [number, number][]) for (const m of [1, 2]) cases.push({ k, s, d: [1, 1], m });
  cases.push({ k: 3, s: [1, 1], d: [2, 2], m: 1 }, { k: 2, s: [1, 1], d: [2, 3], m: 2 });
  for (const { k, s, d, m } of cases)
    for (const pad of pads)
      it(`kernel ${k}x${k}, strides ${s}, dilations ${d}, multiplier ${m}, pad ${JSON.stringify(pad)}`, async () => {
        const xShape = [2, 10, 9, 3];
        const fShape = [k, k, 3, m];
        const dyShape = outShape(xShape, fShape, s, pad, d, true);
        // The cpu kernels ignore dilations (tfjs has no dilated depthwise gradient), so with dilation
        // the reference runs on the equivalent undilated filter: taps spread out with zeros between.
        const dilated = d[0] > 1 || d[1] > 1;
        const eff = [(k - 1) * d[0] + 1, (k - 1) * d[1] + 1, 3, m];
        const filt = await compareBackends(() => {
          const x = rand(xShape, 7);
          const dy = rand(dyShape, 8);
          if (tf.getBackend() === 'cpu' && dilated) {
            const full = kernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: [1, 1], pad, filterShape: eff });
            return tf.stridedSlice(full, [0, 0, 0, 0], eff, [d[0], d[1], 1, 1]);
          }
          return kernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: d, pad, filterShape: fShape });
        });
        expect(filt.wasmShape).toEqual(fShape);
        expect(filt.relErr).toBeLessThan(TOL);
        const inp = await compareBackends(() => {
          const dy = rand(dyShape, 9);
          const f = rand(fShape, 10);
          if (tf.getBackend() === 'cpu' && dilated) {
            const spread = tf.pad(tf.reshape(f, [k, 1, k, 1, 3, m]), [[0, 0], [0, d[0] - 1], [0, 0], [0, d[1] - 1], [0, 0], [0, 0]]);
            const fe = tf.slice(tf.reshape(spread, [k * d[0], k * d[1], 3, m]), [0, 0, 0, 0], eff);
            return kernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: fe }, { strides: s, dilations: [1, 1], pad, inputShape: xShape });
          }
          return kernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { strides: s, dilations: d, pad, inputShape: xShape });
        });
        expect(inp.wasmShape).toEqual(xShape);
        expect(inp.relErr).toBeLessThan(TOL);
      });
});
