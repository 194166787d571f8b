// Demo fine-tune (issue 5): the shapes demo (DEMO_DEFAULTS: 200 images at 160 px, 20 % val), HST with a
// ViT-Ti-shaped, explicitly RANDOM backbone and the "small" dense side preset, detect + instance + semantic at
// 160 px on the default backend. Reports wall time until box AP50 ≥ 0.8 on the val split (evaluated every
// CHUNK steps; evaluation time included), images/s, peak RSS, and a per-phase profile of one training step.
// Run: npm run bench -- finetune     (HST_FINETUNE_MAX_S caps the run, default 900 s)
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { initCompute, tf } from '../src-main/core/compute/engine';
import { DEMO_DEFAULTS, generateShapes } from '../src-main/core/demo/index';
import { BACKBONE_SHAPES, SIDE_PRESETS } from '../src-main/core/model/config';
import { createDataPipeline } from '../src-main/core/training/data/pipeline';
import { Rng } from '../src-main/core/training/data/rng';
import { VIT_AUGREG_NORM } from '../src-main/core/training/data/types';
import { evaluateModel } from '../src-main/core/training/evaluate';
import { buildTaskModel, type TaskModelSpec } from '../src-main/core/training/model-spec';
import { AdamW } from '../src-main/core/training/optim/adamw';
import { defaultHeadSettings, TaskModel } from '../src-main/core/training/task-model';
import { Trainer } from '../src-main/core/training/trainer';
import type { BenchTable } from './types';

const SIZE = 160;
const BATCH = 4;
const CHUNK = 50;
const TARGET = 0.8;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export async function run(): Promise<BenchTable> {
  const maxS = Number(process.env.HST_FINETUNE_MAX_S ?? 900);
  const info = await initCompute();
  const dir = mkdtempSync(join(tmpdir(), 'hst-bench-ft-'));
  try {
    const ds = await generateShapes({ count: DEMO_DEFAULTS.count, size: DEMO_DEFAULTS.size, seed: DEMO_DEFAULTS.seed, outDir: dir, valFraction: DEMO_DEFAULTS.valFraction });
    const classes = [...DEMO_DEFAULTS.classes];
    const train = createDataPipeline({ dataset: ds, classes: { names: classes }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 1, split: 'train', augment: { hflip: 0.5, scaleJitter: [0.85, 1.15], colorJitter: 0.1 } });
    const val = createDataPipeline({ dataset: ds, classes: { names: classes }, size: SIZE, norm: VIT_AUGREG_NORM, seed: 1, split: 'val' });
    const s = SIDE_PRESETS.small;
    const spec: TaskModelSpec = {
      format: 'hst-studio-task-model', version: 1,
      hst: { ...BACKBONE_SHAPES['vit-tiny-16'], img_size: SIZE, m_embed_dims: [...s.m_embed_dims], m_c_num_heads: [...s.m_c_num_heads] },
      heads: defaultHeadSettings(['detect', 'instance', 'semantic'], classes.length),
      classes, inputSize: SIZE, norm: VIT_AUGREG_NORM, backbone: { kind: 'random', label: 'random (untrained) backbone' }, seed: 3,
    };

    // per-phase profile of one step (median of 3 after a warm-up), on its own model
    const phases = await profilePhases(spec, train);

    const model = buildTaskModel(spec);
    const totalSteps = 2000;
    const trainer = new Trainer(model, train, { steps: totalSteps, batchSize: BATCH, lr: 2e-3, seed: 5, warmupSteps: 30 });
    const t0 = performance.now();
    let trainS = 0;
    let images = 0;
    let reached: number | null = null;
    const curve: string[] = [];
    let last = { AP50: 0, maskAP50: 0, mIoU: 0 };
    let step = 0;
    while (step < totalSteps && (performance.now() - t0) / 1000 < maxS) {
      const ctl = new AbortController();
      const target = step + CHUNK;
      const ts = performance.now();
      await trainer.run({ signal: ctl.signal, onEvent: (e) => e.type === 'step' && (e.step >= target || (performance.now() - t0) / 1000 >= maxS) && ctl.abort() });
      trainS += (performance.now() - ts) / 1000;
      images += (trainer.currentStep - step) * BATCH;
      step = trainer.currentStep;
      const ev = await evaluateModel(model, ds, val, classes, { keepPredictions: false });
      last = { AP50: ev.metrics.bbox!.AP50, maskAP50: ev.metrics.segm?.AP50 ?? 0, mIoU: ev.metrics.semantic?.mIoU ?? 0 };
      const wall = (performance.now() - t0) / 1000;
      curve.push(`${step}:${last.AP50.toFixed(2)}@${wall.toFixed(0)}s`);
      if (last.AP50 >= TARGET) {
        reached = wall;
        break;
      }
    }
    trainer.dispose();
    model.dispose();
    const peakRss = process.resourceUsage().maxRSS / 1024; // KiB → MiB
    return {
      title: 'Demo fine-tune: HST (ViT-Ti-shaped random backbone, small dense side preset) detect+instance+semantic @160 px',
      columns: ['metric', 'value'],
      rows: [
        ['wall time to box AP50 ≥ 0.8 (val, incl. evaluations)', reached === null ? `not reached within ${maxS} s` : `${reached.toFixed(0)} s`],
        ['steps (batch 4)', step],
        ['final val box AP50 / mask AP50 / mIoU', `${last.AP50.toFixed(3)} / ${last.maskAP50.toFixed(3)} / ${last.mIoU.toFixed(3)}`],
        ['training images/s (wall)', (images / trainS).toFixed(2)],
        ['peak RSS (MiB)', peakRss.toFixed(0)],
        ['AP50 curve (step:AP50@wall)', curve.join(' ')],
        ...Object.entries(phases).map(([k, v]) => [`phase ms/step, batch 4: ${k} (wall / cpu)`, `${v.wall.toFixed(0)} / ${v.cpu.toFixed(0)}`]),
      ],
      notes: [
        `backend ${info.backend}, ${info.threads ?? 1} thread(s); ${os.cpus().length} vCPUs, load average at the end ${os.loadavg()[0].toFixed(1)} (other jobs share the machine: wall times scale with it, CPU times much less)`,
        'phases (medians of 3; differences of medians, so a small phase can read negative under load): ViT fwd = vitForward; side fwd = + sideForward; heads = loss forward minus the HST forward; backward = variableGrads minus the loss forward; optimizer = one AdamW update',
        'The ViT is random and frozen except its LayerNorms and the Meta Tokens (HST freeze rule); the side network and heads do the learning.',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function profilePhases(spec: TaskModelSpec, train: ReturnType<typeof createDataPipeline>) {
  const model = buildTaskModel(spec);
  const samples = await train.batch([0, 1, 2, 3], new Rng(1));
  const x = TaskModel.batchTensor(samples);
  const tg = model.prepareTargets(samples);
  const vars = model.optimParams().map((p) => p.variable);
  const opt = new AdamW(model.optimParams(), { lr: 1e-5 });
  const time = (f: () => void) => {
    f();
    const w: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      f();
      w.push(performance.now() - t0);
      c.push(cpuMs() - c0);
    }
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[1];
    return { wall: med(w), cpu: med(c) };
  };
  const vit = time(() => tf.tidy(() => void model.hst.vitForward(x, { training: true }).patches.at(-1)!.dataSync()));
  const hst = time(() => tf.tidy(() => void model.hst.forward(x, { training: true }).stages[3].dataSync()));
  const loss = time(() => tf.tidy(() => void model.lossFor(x, tg, true).total.dataSync()));
  let grads: Record<string, tf.Tensor> = {};
  const full = time(() => {
    tf.dispose(Object.values(grads));
    const r = tf.variableGrads(() => model.lossFor(x, tg, true).total, vars);
    r.value.dataSync();
    r.value.dispose();
    grads = r.grads;
  });
  const optim = time(() => opt.applyGradients(grads));
  tf.dispose(Object.values(grads));
  x.dispose();
  opt.dispose();
  model.dispose();
  const d = (a: { wall: number; cpu: number }, b: { wall: number; cpu: number }) => ({ wall: a.wall - b.wall, cpu: a.cpu - b.cpu });
  return { 'ViT fwd': vit, 'side fwd': d(hst, vit), heads: d(loss, hst), backward: d(full, loss), optimizer: optim, 'whole step': { wall: full.wall + optim.wall, cpu: full.cpu + optim.cpu } };
}
