// ONNX twin of the task heads (heads/fpn.ts, fcos-head.ts, condinst-head.ts forward, semantic-fpn-head.ts,
// classify-head.ts). The heads keep their layers private; the exporter reads them by name (bracket access), so a
// renamed field breaks the ONNX export test rather than silently changing the graph.
import type { tf } from '../../compute/engine';
import type { ClassifyHead } from '../../heads/classify-head';
import type { CondInstHead } from '../../heads/condinst-head';
import type { FcosHead } from '../../heads/fcos-head';
import { STAGE_STRIDES, type Fpn, type Stride } from '../../heads/fpn';
import type { ConvTower } from '../../heads/layers/conv-block';
import type { Conv2d } from '../../heads/layers/conv';
import { ChannelLayerNorm, GroupNorm, type Norm } from '../../heads/layers/norm';
import { bilinearMatrix } from '../../heads/layers/resize';
import type { MultiTaskHeads } from '../../heads/multi-task';
import type { SemanticFpnHead } from '../../heads/semantic-fpn-head';
import type { OnnxGraph } from './graph';
import { convW, w } from './weights';

export interface OnnxHeadOutput {
  name: string;
  tensor: string;
  dims: (number | string)[];
}

/** A map tensor NHWC with its static size. */
interface Map4 {
  t: string;
  h: number;
  w: number;
  c: number;
}

function conv(g: OnnxGraph, c: Conv2d, x: Map4): Map4 {
  const k = c.weight.shape[0] as number;
  const out = c.weight.shape[3] as number;
  return { t: g.convNhwc(x.t, convW(g, 'conv.w', c.weight), w(g, 'conv.b', c.bias), k, 1, (k - 1) / 2), h: x.h, w: x.w, c: out };
}

function norm(g: OnnxGraph, n: Norm | null, x: Map4): Map4 {
  if (!n) return x;
  if (n instanceof GroupNorm) {
    const cg = x.c / n.groups;
    const xg = g.reshape(x.t, [0, x.h * x.w, n.groups, cg]);
    const mean = g.op('ReduceMean', [xg], { axes: [1, 3], keepdims: 1 });
    const d = g.op('Sub', [xg, mean]);
    const v = g.op('ReduceMean', [g.mul(d, d)], { axes: [1, 3], keepdims: 1 });
    const xn = g.op('Div', [d, g.op('Sqrt', [g.add(v, g.f32(n.eps))])]);
    const y = g.reshape(xn, [0, x.h, x.w, x.c]);
    return { ...x, t: g.add(g.mul(y, w(g, 'gn.w', n.weight)), w(g, 'gn.b', n.bias)) };
  }
  if (n instanceof ChannelLayerNorm) return { ...x, t: g.layerNorm(x.t, w(g, 'ln.w', n.weight), w(g, 'ln.b', n.bias), n.eps) };
  throw new Error('ONNX export: unknown norm layer in the heads');
}

function relu(g: OnnxGraph, x: Map4): Map4 {
  return { ...x, t: g.op('Relu', [x.t]) };
}

function tower(g: OnnxGraph, t: ConvTower, x: Map4): Map4 {
  const convs = t['convs'] as Conv2d[];
  const norms = t['norms'] as (Norm | null)[];
  let y = x;
  convs.forEach((c, i) => (y = relu(g, norm(g, norms[i], conv(g, c, y)))));
  return y;
}

/** Resize NHWC with interpolation matrices Mh [H,h], Mw [W,w] (row-major), as heads/layers/resize.ts does. */
function resizeByMatrices(g: OnnxGraph, x: Map4, H: number, W: number, mh: Float32Array, mw: Float32Array): Map4 {
  const T = (m: Float32Array, rows: number, cols: number) => {
    const t = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
    return t;
  };
  let t = g.transpose(x.t, [0, 3, 1, 2]); // [B,C,h,w]
  t = g.op('MatMul', [t, g.weight('resize.w', T(mw, W, x.w), [x.w, W])]); // [B,C,h,W]
  t = g.transpose(t, [0, 1, 3, 2]); // [B,C,W,h]
  t = g.op('MatMul', [t, g.weight('resize.h', T(mh, H, x.h), [x.h, H])]); // [B,C,W,H]
  return { t: g.transpose(t, [0, 3, 2, 1]), h: H, w: W, c: x.c };
}

function bilinear(g: OnnxGraph, x: Map4, H: number, W: number): Map4 {
  if (x.h === H && x.w === W) return x;
  return resizeByMatrices(g, x, H, W, bilinearMatrix(x.h, H), bilinearMatrix(x.w, W));
}

/** repeat ⌈H/h⌉ × ⌈W/w⌉ then crop (resizeNearest in heads/layers/resize.ts) */
function nearest(g: OnnxGraph, x: Map4, H: number, W: number): Map4 {
  if (x.h === H && x.w === W) return x;
  const sel = (n: number, N: number) => {
    const f = Math.ceil(N / n);
    const m = new Float32Array(N * n);
    for (let o = 0; o < N; o++) m[o * n + Math.floor(o / f)] = 1;
    return m;
  };
  return resizeByMatrices(g, x, H, W, sel(x.h, H), sel(x.w, W));
}

function fpn(g: OnnxGraph, f: Fpn, stages: Map4[]): Partial<Record<Stride, Map4>> {
  const laterals = f['laterals'] as Map<number, Conv2d>;
  const outputs = f['outputs'] as Map<number, Conv2d>;
  const first = f['firstStage'] as number;
  const out: Partial<Record<Stride, Map4>> = {};
  let top: Map4 | null = null;
  for (let i = 3; i >= first; i--) {
    const lat = conv(g, laterals.get(i)!, stages[i]);
    const merged: Map4 = top ? { ...lat, t: g.add(lat.t, nearest(g, top, lat.h, lat.w).t) } : lat;
    top = merged;
    const oc = outputs.get(i);
    if (oc) out[STAGE_STRIDES[i]] = conv(g, oc, merged);
  }
  return out;
}

function flat(g: OnnxGraph, x: Map4): string {
  return g.reshape(x.t, [0, x.h * x.w, x.c]);
}

function fcos(g: OnnxGraph, d: FcosHead, levels: Partial<Record<Stride, Map4>>): { cls: string; box: string; ctr: string; n: number; towers: Map4[] } {
  const cls: string[] = [];
  const box: string[] = [];
  const ctr: string[] = [];
  const towers: Map4[] = [];
  const scales = d['scales'] as tf.Variable[];
  const act = d['boxActivation'] as 'exp' | 'relu';
  let n = 0;
  d.strides.forEach((s, li) => {
    const x = levels[s]!;
    n += x.h * x.w;
    const ct = tower(g, d['clsTower'] as ConvTower, x);
    const bt = tower(g, d['boxTower'] as ConvTower, x);
    towers.push(bt);
    cls.push(flat(g, conv(g, d['clsLogits'] as Conv2d, ct)));
    const raw = conv(g, d['bboxPred'] as Conv2d, bt);
    const scaled = g.mul(raw.t, w(g, 'fcos.scale', scales[li]));
    const dist = act === 'exp' ? g.op('Exp', [g.op('Min', [scaled, g.f32(12)])]) : g.op('Relu', [scaled]);
    box.push(g.reshape(g.mul(dist, g.f32(s)), [0, x.h * x.w, 4]));
    ctr.push(g.reshape(conv(g, d['centerness'] as Conv2d, bt).t, [0, x.h * x.w]));
  });
  const cat = (xs: string[]) => (xs.length === 1 ? xs[0] : g.concat(xs, 1));
  return { cls: cat(cls), box: cat(box), ctr: cat(ctr), n, towers };
}

function condinst(g: OnnxGraph, m: CondInstHead, levels: Partial<Record<Stride, Map4>>, towers: Map4[]): { feats: Map4; params: string } {
  const refine = m['refine'] as { conv: Conv2d; norm: Norm | null }[];
  const strides = m['inputStrides'] as Stride[];
  let fused: Map4 | null = null;
  strides.forEach((s, i) => {
    let y = relu(g, norm(g, refine[i].norm, conv(g, refine[i].conv, levels[s]!)));
    if (fused) y = bilinear(g, y, fused.h, fused.w);
    fused = fused ? { ...fused, t: g.add(fused.t, y.t) } : y;
  });
  const feats = conv(g, m['out'] as Conv2d, tower(g, m['tower'] as ConvTower, fused!));
  const per = towers.map((t) => g.reshape(conv(g, m['controller'] as Conv2d, t).t, [0, t.h * t.w, m.numParams]));
  return { feats, params: per.length === 1 ? per[0] : g.concat(per, 1) };
}

function semantic(g: OnnxGraph, sh: SemanticFpnHead, levels: Partial<Record<Stride, Map4>>): Map4 {
  const blocks = sh['scaleHeads'] as { conv: Conv2d; norm: Norm | null; upsample: boolean }[][];
  let sum: Map4 | null = null;
  let outH = 0;
  let outW = 0;
  sh.strides.forEach((s, li) => {
    const x0 = levels[s]!;
    if (li === 0) {
      outH = x0.h * (s / 4);
      outW = x0.w * (s / 4);
    }
    let x = x0;
    for (const b of blocks[li]) {
      x = relu(g, norm(g, b.norm, conv(g, b.conv, x)));
      if (b.upsample) x = bilinear(g, x, x.h * 2, x.w * 2);
    }
    if (x.h !== outH || x.w !== outW) {
      const h = Math.min(outH, x.h);
      const wd = Math.min(outW, x.w);
      x = { ...x, t: g.slice(g.slice(x.t, 1, 0, h), 2, 0, wd), h, w: wd };
    }
    if (x.h !== outH || x.w !== outW) x = bilinear(g, x, outH, outW);
    sum = sum ? { ...sum, t: g.add(sum.t, x.t) } : x;
  });
  return conv(g, sh['predictor'] as Conv2d, sum!);
}

function classify(g: OnnxGraph, c: ClassifyHead, stage4: Map4): string {
  const pooled = g.op('ReduceMean', [stage4.t], { axes: [1, 2], keepdims: 0 }); // [B, C]
  const eps = c['eps'] as number;
  const normed = g.op('Div', [g.op('Sub', [pooled, w(g, 'fc_norm.running_mean', c.runningMean)]), g.op('Sqrt', [g.add(w(g, 'fc_norm.running_var', c.runningVar), g.f32(eps))])]);
  return g.linear(normed, w(g, 'head.weight', c.weight), w(g, 'head.bias', c.bias));
}

export function onnxHeads(g: OnnxGraph, heads: MultiTaskHeads, stageTensors: string[], shapes: [number, number, number][]): OnnxHeadOutput[] {
  const stages: Map4[] = stageTensors.map((t, i) => ({ t, h: shapes[i][0], w: shapes[i][1], c: shapes[i][2] }));
  const out: OnnxHeadOutput[] = [];
  const levels = heads.fpn ? fpn(g, heads.fpn, stages) : {};
  if (heads.det) {
    const K = heads.det.numClasses;
    const d = fcos(g, heads.det, levels);
    out.push({ name: 'det_cls', tensor: d.cls, dims: ['batch', d.n, K] }, { name: 'det_box', tensor: d.box, dims: ['batch', d.n, 4] }, { name: 'det_ctr', tensor: d.ctr, dims: ['batch', d.n] });
    if (heads.mask) {
      const m = condinst(g, heads.mask, levels, d.towers);
      out.push({ name: 'mask_feats', tensor: m.feats.t, dims: ['batch', m.feats.h, m.feats.w, m.feats.c] }, { name: 'mask_params', tensor: m.params, dims: ['batch', d.n, heads.mask.numParams] });
    }
  }
  if (heads.sem) {
    const s = semantic(g, heads.sem, levels);
    out.push({ name: 'sem_logits', tensor: s.t, dims: ['batch', s.h, s.w, s.c] });
  }
  if (heads.cls) out.push({ name: 'cls_logits', tensor: classify(g, heads.cls, stages[3]), dims: ['batch', heads.cls.opts.numClasses] });
  return out;
}
