// Task-head benchmark: train step (forward + backward + AdamW) and predict (forward + decode + NMS + masks) per
// image for the multi-task heads (detect + instance + semantic) on random stage features at 224 px, batch 4,
// for the dense head widths and a CPU preset, on the backend the engine picks. Also the kernels taking the most
// time in one train step (tf.profile), to see what limits the heads.
import os from 'node:os';
import { initCompute, tf } from '../src-main/core/compute/engine';
import { MultiTaskHeads, type MultiTaskOptions } from '../src-main/core/heads/multi-task';
import { AdamW } from '../src-main/core/training/optim/adamw';
import type { BenchTable } from './types';

const SIZE = 224;
const BATCH = 4;

interface Preset {
  name: string;
  opts: Omit<MultiTaskOptions, 'numClasses' | 'tasks'>;
}

const PRESETS: Preset[] = [
  { name: 'dense (FPN 128, towers 4)', opts: { stageChannels: [64, 128, 256, 384], fpnWidth: 128, towerDepth: 4 } },
  { name: 'cpu (FPN 64, towers 2, mask branch 2)', opts: { stageChannels: [64, 128, 256, 384], fpnWidth: 64, towerDepth: 2, maskBranchDepth: 2 } },
];

function box(x: number, y: number, w: number, h: number): { box: number[]; mask: Uint8Array } {
  const mask = new Uint8Array(SIZE * SIZE);
  for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) mask[r * SIZE + c] = 1;
  return { box: [x, y, x + w, y + h], mask };
}

export async function run(): Promise<BenchTable> {
  const info = await initCompute();
  const rows: object[] = [];
  const notes: string[] = [`backend ${info.backend}, ${info.threads} thread(s); input ${SIZE}², batch ${BATCH}, 5 classes, tasks detect+instance+semantic; random stage features.`];
  for (const p of PRESETS) {
    const heads = new MultiTaskHeads({ ...p.opts, numClasses: 5, tasks: ['instance', 'semantic'], seed: 1 });
    const images = Array.from({ length: BATCH }, (_, b) => {
      const objs = [box(10 + b, 20, 60, 80), box(100, 90 + b, 90, 70), box(150, 10, 40, 40)];
      return { boxes: objs.flatMap((o) => o.box), labels: [0, 1, 2 + (b % 3)], masks: objs.map((o) => o.mask) };
    });
    const t = heads.prepareTargets(images, [SIZE, SIZE]);
    const stages = p.opts.stageChannels.map((c, i) => tf.randomNormal([BATCH, SIZE / 2 ** (i + 2), SIZE / 2 ** (i + 2), c], 0, 1, 'float32', i) as tf.Tensor4D);
    const trainable = heads.params().filter((q) => !q.buffer);
    const opt = new AdamW(trainable.map((q) => ({ name: q.name, variable: q.variable })), { lr: 1e-4 });
    const step = () => {
      const { value, grads } = tf.variableGrads(() => heads.loss(stages, t).total, trainable.map((q) => q.variable));
      opt.applyGradients(grads);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(); // warm-up
    const reps = 3;
    let t0 = performance.now();
    for (let i = 0; i < reps; i++) step();
    const trainMs = (performance.now() - t0) / reps / BATCH;
    await heads.predict(stages, { imageSize: [SIZE, SIZE] });
    t0 = performance.now();
    for (let i = 0; i < reps; i++) await heads.predict(stages, { imageSize: [SIZE, SIZE] });
    const predictMs = (performance.now() - t0) / reps / BATCH;
    const prof = await tf.profile(() => step());
    const agg = new Map<string, number>();
    for (const k of prof.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + Number(k.kernelTimeMs));
    const top = [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
    const params = trainable.reduce((a, q) => a + q.variable.size, 0);
    rows.push({ preset: p.name, 'params (M)': +(params / 1e6).toFixed(2), 'train ms/img': Math.round(trainMs), 'predict ms/img': Math.round(predictMs), 'top kernels in one step (ms)': top });
    opt.dispose();
    heads.dispose();
    tf.dispose(stages);
  }
  notes.push('Head cost only: the HST backbone + side network come on top (bench model).');
  notes.push(`Load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} cores (timings scale with contention).`);
  return { title: 'Task heads (multi-task) at 224 px', rows, notes };
}
