// Incremental side-tuning (issue 8 targets): with 200 labelled demo images, after the Fine-tune button's fast
// fine-tune (which fills the feature cache), how long until adding one labelled image gives an updated active
// model (fast mode, target ≤ 5 s on 2 cores), and how much box AP on the images labelled before the update
// drops (target ≤ 1 point). ViT-Ti/16 with an explicitly random backbone, the plan's side preset ('lite' on CPU), the demo's tasks
// (detect + instance + semantic), the CPU plan (128 px, batch 8, FPN 32).
//
// Knobs (environment): BENCH_INC_FT_STEPS (fine-tune steps, default 150), BENCH_INC_UPDATES (images added one by
// one, default 3), BENCH_INC_IMAGES (demo size, default 200), BENCH_INC_STEPS / BENCH_INC_BATCH (update settings).
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCompute } from '../src-main/core/compute/engine';
import { IncrementalUpdater, type UpdateDone } from '../src-main/core/incremental/updater';
import { planTraining } from '../src-main/core/app/train-service';
import { openProject } from '../src-main/core/store/project';
import { trainProject } from '../src-main/core/training/train-project';
import { performance } from 'node:perf_hooks';
import { createDemoProject } from '../src-main/core/store/create-demo';
import type { Annotation } from '../src-main/contract/schemas';
import type { Dataset } from '../src-main/core/datasets/types';
import { createDataPipeline } from '../src-main/core/data/pipeline';
import { evaluateModel } from '../src-main/core/eval/evaluate-model';
import { loadTaskModel } from '../src-main/core/task-model/model-spec';
import type { TaskModel, TaskName } from '../src-main/core/task-model/task-model';
import type { BenchTable } from './types';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);

export async function run(): Promise<BenchTable> {
  const FT_STEPS = env('BENCH_INC_FT_STEPS', 150);
  const UPDATES = env('BENCH_INC_UPDATES', 3);
  const IMAGES = env('BENCH_INC_IMAGES', 200);
  const ON_THE_FLY = env('BENCH_INC_EVAL_ON_THE_FLY', 0) === 1;
  const load0 = loadavg()[0];
  const compute = await initCompute();
  const root = await mkdtemp(join(tmpdir(), 'hst-bench-inc-'));
  const log = (s: string) => process.stderr.write(`[incremental] ${s}\n`);
  try {
    const store = await createDemoProject(join(root, 'p'), { count: IMAGES });
    const trainIds = store.imageIds({ split: 'train' });
    // the images "added" later: unlabeled during the initial training
    const added = trainIds.slice(0, UPDATES);
    const removed = new Map<number, Annotation[]>();
    for (const id of added) {
      const anns = store.annotationsOf(id);
      removed.set(id, anns);
      store.apply({ deleted: anns, label: 'bench: hold out' });
    }
    const labelledBefore = new Set(store.imageIds({ status: 'labeled' }).filter((id) => trainIds.includes(id)).map(String));

    // 1. the Fine-tune button's fast fine-tune (planTraining's CPU plan: fast mode, 160 px, FPN 32), shortened
    store.close();
    const plan = await planTraining(openProject(join(root, 'p')), { backbone: 'random', steps: FT_STEPS });
    let t = performance.now();
    const ft = await trainProject(
      { project: join(root, 'p'), backbone: 'random', tasks: plan.tasks as TaskName[], size: plan.size, steps: plan.steps, batchSize: plan.batchSize, lr: plan.lr, mode: plan.mode, side: plan.side, heads: plan.fpnWidth ? { fpnWidth: plan.fpnWidth } : undefined, checkpointEvery: 0 },
      { onEvent: (e) => (e.type === 'phase' ? log(e.message) : e.type === 'step' && e.step % 25 === 0 && log(`fine-tune step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)}`)) },
    );
    const ftSec = (performance.now() - t) / 1000;
    log(`fine-tune done in ${ftSec.toFixed(0)} s: ${JSON.stringify({ box: ft.metrics?.bbox?.AP50, mask: ft.metrics?.segm?.AP50, mIoU: ft.metrics?.semantic?.mIoU })}`);
    const reopened = openProject(join(root, 'p'));
    const active = reopened.activeModel(plan.tasks.join('+'))!;
    const { spec } = await loadTaskModel(join(reopened.dir, active.files[0]));
    const trainDs = ((ds: Dataset, keys: Set<string>): Dataset => ({ ...ds, images: ds.images.filter((i) => keys.has(i.key)), annotations: ds.annotations.filter((a) => keys.has(a.imageKey)) }))(reopened.toDataset(), labelledBefore);

    // 2. what the studio does right after a fine-tune: warm the updater (model in memory, cache checked, baseline eval)
    const over = { ...(process.env.BENCH_INC_STEPS ? { steps: env('BENCH_INC_STEPS', 0) } : {}), ...(process.env.BENCH_INC_BATCH ? { batchSize: env('BENCH_INC_BATCH', 0) } : {}) };
    const updater = new IncrementalUpdater({ store: reopened, task: active.task, settings: { debounceMs: 1500, ...over } });
    const us = updater.settings;
    t = performance.now();
    const computed = await updater.prepareCache();
    const cacheSec = (performance.now() - t) / 1000;
    const cacheStats = reopened.featureCache.stats();

    // box AP on the images labelled before the updates (train split), with the ViT run on the fly
    const evalPipe = createDataPipeline({ dataset: trainDs, classes: { names: spec.classes }, size: spec.inputSize, norm: spec.norm, seed: 1 });
    const apOld = async (): Promise<{ AP: number; AP50: number }> => {
      const v = reopened.activeModel(active.task)!;
      const m: TaskModel = (await loadTaskModel(join(reopened.dir, v.files[0]))).model;
      try {
        const r = ON_THE_FLY ? (await evaluateModel(m, trainDs, evalPipe, spec.classes, { batchSize: 8, keepPredictions: false })).metrics : await updater.evaluateCached(m, spec, trainDs);
        return { AP: r.bbox!.AP, AP50: r.bbox!.AP50 };
      } finally {
        m.dispose();
      }
    };
    t = performance.now();
    const before = await apOld();
    const evalSec = (performance.now() - t) / 1000;
    log(`AP on old images before: ${JSON.stringify(before)} (${evalSec.toFixed(1)} s)`);

    // 4. add labelled images one by one; each → one fast update (the debounce is skipped: flush())
    const rows: object[] = [];
    const loads: number[] = [];
    let first: { AP: number; AP50: number } | null = null;
    for (const [k, id] of added.entries()) {
      const tApply = performance.now();
      reopened.apply({ created: removed.get(id)!, label: 'bench: label one image' });
      updater.notifyChanged([id]);
      const r = await updater.flush();
      const endToEnd = performance.now() - tApply;
      loads.push(loadavg()[0]);
      if (r?.type !== 'done') throw new Error(`bench: update ${k + 1} did not finish: ${JSON.stringify(r)}`);
      const d = r as UpdateDone;
      let old: { AP: number; AP50: number } | null = null;
      if (k === 0 || k === added.length - 1) old = await apOld();
      if (k === 0) first = old;
      rows.push({
        update: k + 1,
        mode: d.mode,
        'wall s (update)': d.wallMs / 1000,
        'wall s (apply→active)': endToEnd / 1000,
        steps: d.steps,
        'ViT passes computed': d.cacheComputed,
        'phases s (load/prep/prev-eval/train/eval/save)': Object.values(d.phaseMs).map((v) => (v / 1000).toFixed(2)).join(' / '),
        'val AP50 before→after': `${(100 * (d.previousMain.value ?? NaN)).toFixed(1)} → ${(100 * (d.main.value ?? NaN)).toFixed(1)}`,
        promoted: d.promoted,
        'old-images box AP before→after': old ? `${(100 * before.AP).toFixed(1)} → ${(100 * old.AP).toFixed(1)}` : '',
        'old-images AP50 before→after': old ? `${(100 * before.AP50).toFixed(1)} → ${(100 * old.AP50).toFixed(1)}` : '',
        'load avg (1 min)': loadavg()[0],
      });
      log(JSON.stringify(rows[rows.length - 1]));
    }
    updater.dispose();
    reopened.close();
    void first;
    return {
      title: 'Incremental side-tuning: one added labelled image → updated active model',
      rows,
      notes: [
        `Backend ${compute.backend} (${compute.threads} thread${compute.threads === 1 ? '' : 's'}); ${IMAGES} demo images (160 px, ${trainIds.length} train / ${IMAGES - trainIds.length} val), ViT-Ti/16 random backbone, ${plan.side ?? 'small'} side preset, ${plan.tasks.join('+')}, input ${plan.size}, FPN ${plan.fpnWidth ?? 64}; updates: ${us.steps} steps of batch ${us.batchSize}, lr ${us.lr}, ${Math.round((1 - us.replayFraction) * 100)}/${Math.round(us.replayFraction * 100)} new/replay, flips ${us.flips ? 'on' : 'off'}.`,
        `Initial training: the Fine-tune plan in ${plan.mode} mode, ${FT_STEPS} steps (batch ${plan.batchSize}), ${ftSec.toFixed(0)} s including the feature-cache fill; val box AP50 ${(ft.metrics?.bbox?.AP50 ?? 0).toFixed(3)}. Updater warm-up after it (prepareCache: model load, cache check, baseline val eval): ${computed} ViT passes computed, ${cacheSec.toFixed(1)} s; cache ${cacheStats.entries} entries, ${(cacheStats.bytes / 1024 ** 2).toFixed(0)} MiB (float16).`,
        `"wall s (update)" runs from the start of the update (after the debounce, default 1.5 s, which is not included) to the new version stored and activated: warm start from the in-memory active model, ViT pass of the new image (2 flips), the training steps, val-split evaluation from the cache, saving the version (the previous model's val metrics were computed once when the cache was built). "apply→active" adds the changeset and scheduling.`,
        `Old-images AP: box AP / AP50 of the active model on the ${labelledBefore.size} training images labelled before the updates, ${ON_THE_FLY ? 'ViT run on the fly (independent of the cache)' : 'ViT pass read from the feature cache (same as on the fly up to float16 error, see test/core/features)'}, measured before the first update, after the first and after the last (${evalSec.toFixed(0)} s per evaluation).`,
        `Machine load: 1-min load average ${load0.toFixed(1)} at start, ${loads.map((l) => l.toFixed(1)).join(' / ')} after the updates, on 2 vCPUs (the bench's own 2 wasm threads count for most of it; nothing else was running).`,
      ],
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
