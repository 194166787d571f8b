// LayerNorm and GroupNorm as one kernel each way ("HstNorm" / "HstNormGrad"), for the JS-memory backends (wasm,
// cpu). Composed from tfjs ops, one LayerNorm costs ~12 elementwise passes forward and ~75 kernel calls forward
// + backward (moments' gradient); the side network and heads have dozens of norms on small tensors, where
// those calls and passes were a large share of a training step. Here the statistics and both passes are one
// loop each, accumulated in float64.
//
// Layout: x is viewed as [B, S, G, K] (batch, positions, groups, channels per group); statistics are taken per
// (b, g) over (S, K); gamma/beta are per channel (G·K). LayerNorm over the last axis: B = rows, S = 1, G = 1.
// GroupNorm on NHWC maps: B = batch, S = H·W, G = groups, K = C/G.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { jsMemory, recordingGradients } from './kernel-util';

export const NORM_KERNEL = 'HstNorm';
export const NORM_GRAD_KERNEL = 'HstNormGrad';

interface NormAttrs {
  /** positions per statistic group (S) */
  spatial: number;
  groups: number;
  eps: number;
}

function dims(x: TensorInfo, a: NormAttrs): { B: number; S: number; G: number; K: number } {
  const C = x.shape[x.shape.length - 1];
  const G = a.groups;
  if (C % G !== 0) throw new Error(`${NORM_KERNEL}: ${C} channels do not split into ${G} groups`);
  const total = tf.util.sizeFromShape(x.shape);
  const B = total / (a.spatial * C);
  if (!Number.isInteger(B)) throw new Error(`${NORM_KERNEL}: shape [${x.shape}] is not a multiple of ${a.spatial} positions × ${C} channels`);
  return { B, S: a.spatial, G, K: C / G };
}

function forward(backendName: string): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as NormAttrs;
    const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
    const m = jsMemory(backend as KernelBackend, backendName);
    const { B, S, G, K } = dims(x, a);
    const C = G * K;
    const y = m.out(x.shape.slice());
    const mean = m.out([B * G]);
    const rstd = m.out([B * G]);
    const X = m.read(x);
    const ga = m.read(gamma);
    const be = m.read(beta);
    const Y = y.data;
    const MEAN = mean.data;
    const RSTD = rstd.data;
    const n = S * K;
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < G; g++) {
        let sum = 0;
        for (let s = 0; s < S; s++) {
          const o = (b * S + s) * C + g * K;
          for (let k = 0; k < K; k++) sum += X[o + k];
        }
        const mu = sum / n;
        let sq = 0;
        for (let s = 0; s < S; s++) {
          const o = (b * S + s) * C + g * K;
          for (let k = 0; k < K; k++) {
            const d = X[o + k] - mu;
            sq += d * d;
          }
        }
        const r = 1 / Math.sqrt(sq / n + a.eps);
        MEAN[b * G + g] = mu;
        RSTD[b * G + g] = r;
        for (let s = 0; s < S; s++) {
          const o = (b * S + s) * C + g * K;
          for (let k = 0; k < K; k++) {
            const c = g * K + k;
            Y[o + k] = (X[o + k] - mu) * r * ga[c] + be[c];
          }
        }
      }
    }
    return [y.done(), mean.done(), rstd.done()];
  };
}

/**
 * One of the three gradients per call (attr `which`: 0 = dx, 1 = dgamma, 2 = dbeta): tfjs asks for each input's
 * gradient in its own tidy scope, so a kernel returning all three would lose the two not asked for.
 */
function backward(backendName: string): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as NormAttrs & { which: 0 | 1 | 2 };
    const { dy, x, gamma, mean, rstd } = inputs as Record<string, TensorInfo>;
    const m = jsMemory(backend as KernelBackend, backendName);
    const { B, S, G, K } = dims(x, a);
    const C = G * K;
    const n = S * K;
    const res = m.out(a.which === 0 ? x.shape.slice() : [C]);
    const DY = m.read(dy);
    const X = m.read(x);
    const MU = m.read(mean);
    const RS = m.read(rstd);
    const OUT = res.data;
    if (a.which === 2) {
      // dbeta[c] = Σ dy over all rows (batch and positions): channels are the innermost axis
      const acc = new Float64Array(C);
      for (let o = 0; o < DY.length; o += C) for (let c = 0; c < C; c++) acc[c] += DY[o + c];
      for (let c = 0; c < C; c++) OUT[c] = acc[c];
      return res.done();
    }
    if (a.which === 1) {
      // dgamma[c] = Σ dy·xhat over batch and positions. One loop per gradient: with a branch on `which` in the
      // inner loop, the whole norm forward + backward measured ~2× slower.
      const acc = new Float64Array(C);
      for (let b = 0; b < B; b++)
        for (let g = 0; g < G; g++) {
          const mu = MU[b * G + g];
          const r = RS[b * G + g];
          const c0 = g * K;
          for (let s = 0; s < S; s++) {
            const o = (b * S + s) * C + c0;
            for (let k = 0; k < K; k++) acc[c0 + k] += DY[o + k] * (X[o + k] - mu) * r;
          }
        }
      for (let c = 0; c < C; c++) OUT[c] = acc[c];
      return res.done();
    }
    const ga = m.read(gamma);
    const DX = OUT;
    for (let b = 0; b < B; b++) {
      for (let g = 0; g < G; g++) {
        const mu = MU[b * G + g];
        const r = RS[b * G + g];
        // Σ dxhat and Σ dxhat·xhat over the group, with dxhat = dy·gamma
        let s1 = 0;
        let s2 = 0;
        for (let s = 0; s < S; s++) {
          const o = (b * S + s) * C + g * K;
          for (let k = 0; k < K; k++) {
            const dxh = DY[o + k] * ga[g * K + k];
            s1 += dxh;
            s2 += dxh * (X[o + k] - mu) * r;
          }
        }
        const k1 = s1 / n;
        const k2 = s2 / n;
        for (let s = 0; s < S; s++) {
          const o = (b * S + s) * C + g * K;
          for (let k = 0; k < K; k++) DX[o + k] = r * (DY[o + k] * ga[g * K + k] - k1 - (X[o + k] - mu) * r * k2);
        }
      }
    }
    return res.done();
  };
}

const BACKENDS = ['wasm', 'cpu'];
let registered = false;

/** Registers the fused norm kernels for wasm and cpu and their gradient (idempotent). */
export function registerFusedNorm(): void {
  if (registered) return;
  registered = true;
  for (const name of BACKENDS) {
    if (!tf.getKernel(NORM_KERNEL, name)) tf.registerKernel({ kernelName: NORM_KERNEL, backendName: name, kernelFunc: forward(name) });
    if (!tf.getKernel(NORM_GRAD_KERNEL, name)) tf.registerKernel({ kernelName: NORM_GRAD_KERNEL, backendName: name, kernelFunc: backward(name) });
  }
  tf.registerGradient({
    kernelName: NORM_KERNEL,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [x, gamma, mean, rstd] = saved;
      const grad = (which: 0 | 1 | 2) => () => tf.engine().runKernel(NORM_GRAD_KERNEL, { dy, x, gamma, mean, rstd }, { ...attrs, which } as never) as tf.Tensor;
      return { x: grad(0), gamma: grad(1), beta: grad(2) };
    },
  });
}

/**
 * Whether to use the fused kernels: the running backend has them, and a gradient tape is recording (training).
 * Inference keeps the composed ops: the fused kernel (float64 statistics) differs from them by ~1e-7 relative,
 * except on tokens whose variance is near eps, where both are rounding noise amplified by 1/sqrt(eps) — the
 * parity fixture has one such token in stage 3 (composed 9.7e-5 vs fused 1.1e-4 against PyTorch, every other
 * token ≤ 6e-6), so eval outputs stay exactly those validated against the authors' model.
 */
export function hasFusedNorm(): boolean {
  if (!registered || tf.getKernel(NORM_KERNEL, tf.getBackend()) === undefined) return false;
  return recordingGradients();
}

/**
 * Normalises x (last axis = channels) over groups of (spatial positions × channels/groups), then applies the
 * per-channel affine. Only call when hasFusedNorm().
 */
export function fusedNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, spatial: number, groups: number): tf.Tensor {
  const outs = tf.engine().runKernel(NORM_KERNEL, { x, gamma, beta }, { spatial, groups, eps } as never) as tf.Tensor[];
  // mean and rstd are only for the gradient; the tape keeps its own copies of what it saves
  outs[1].dispose();
  outs[2].dispose();
  return outs[0];
}
