// The loop's API over a real SQLite demo project: fine-tune (tiny plan, in the training worker) → models →
// predict → accept/reject suggestions → label next → incremental update → export. One shared project: each
// step builds on the last, as a user's session does.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, EventPayload, MethodOutput } from '../../src-main/contract/api';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';
import { createDemoProject } from '../../src-main/core/store/create-demo';
import type { FullProjectStore } from '../../src-main/core/store/types';
import { specPath, type TaskModelSpec } from '../../src-main/core/task-model/model-spec';

let tmp: string;
let project: string;
let service: StudioService;
const events: { event: EventName; payload: unknown }[] = [];
const call = <T>(name: string, input: unknown = {}) => service.call(name, input) as Promise<T>;

function jobDone(jobId: string): Promise<EventPayload<'job.done'>> {
  return new Promise((resolve) => {
    const hit = events.find((e) => e.event === 'job.done' && (e.payload as EventPayload<'job.done'>).jobId === jobId);
    if (hit) return resolve(hit.payload as EventPayload<'job.done'>);
    const off = service.subscribe((event, payload) => {
      if (event === 'job.done' && (payload as EventPayload<'job.done'>).jobId === jobId) {
        off();
        resolve(payload as EventPayload<'job.done'>);
      }
    });
  });
}

const TINY = { preset: 'tiny', backbone: 'random' } as const;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-loop-'));
  project = join(tmp, 'demo');
  const store = await createDemoProject(project, { count: 10 });
  store.close();
  process.env.HST_DATA_DIR = join(tmp, 'data'); // no backbone installed
  service = new StudioService({
    mode: 'server', stores: sqliteStores,
    doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'test', extraKernels: [], notes: [] }),
    recent: new RecentList(join(tmp, 'recent.json')),
    emit: (event, payload) => events.push({ event, payload }),
  });
  await service.openAtStart(project);
  // two train images become unlabeled (the demo labels everything)
  const s = service.project!;
  const train = s.listImages({ split: 'train', limit: 2 }).items;
  const deleted = train.flatMap((im) => s.annotationsOf(im.id));
  await call('annotations.apply', { changeset: { created: [], updated: [], deleted } });
}, 600_000);

afterAll(() => {
  service?.close();
  delete process.env.HST_DATA_DIR;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('loop API', () => {
  it('plans without settings, and asks for a backbone instead of silently using a random one', async () => {
    await expect(call('train.start', {})).rejects.toThrow(/no pretrained backbone is installed.*random backbone \(demo only\)/s);
    await expect(call('train.plan', {})).rejects.toThrow(/no pretrained backbone is installed/);
    const plan = await call<MethodOutput<'train.plan'>>('train.plan', { advanced: { backbone: 'random' } });
    expect(plan.tasks).toEqual(['detect', 'instance', 'semantic']);
    expect(plan.trainImages).toBeGreaterThan(0);
    expect(plan.valImages).toBeGreaterThan(0);
    expect(plan.steps).toBeGreaterThanOrEqual(50);
    const tiny = await call<MethodOutput<'train.plan'>>('train.plan', { advanced: { ...TINY, steps: 3 } });
    expect(tiny).toMatchObject({ size: 64, steps: 3, randomBackbone: true, preset: 'tiny' });
    await expect(call('predict.run', {})).rejects.toThrow(/no trained model yet/);
    await expect(call('export.run', { format: 'tfjs', out: join(tmp, 'x') })).rejects.toThrow(/no trained model to export/);
  });

  it('fine-tunes in the worker with live progress, then evaluates', async () => {
    // an Advanced side preset reaches the trainer: the saved model has its widths
    const { jobId, plan } = await call<MethodOutput<'train.start'>>('train.start', { advanced: { ...TINY, side: 'lite' } });
    expect(plan).toMatchObject({ steps: 5, side: 'lite' });
    await expect(call('train.start', { advanced: TINY })).rejects.toThrow(/already running/);
    const done = await jobDone(jobId);
    expect(done.status, done.message).toBe('ok');
    const prog = events.filter((e) => e.event === 'train.progress').map((e) => e.payload as EventPayload<'train.progress'>);
    expect(prog.map((p) => p.step)).toContain(5);
    expect(prog.every((p) => Number.isFinite(p.loss) && p.lr >= 0 && p.totalSteps === 5)).toBe(true);
    expect(Object.keys(prog[0].parts).length).toBeGreaterThan(0);
    // the per-class evaluation arrives after the job (predicting the val split)
    for (let i = 0; i < 600 && !events.some((e) => e.event === 'train.eval'); i++) await new Promise((r) => setTimeout(r, 100));
    const ev = events.find((e) => e.event === 'train.eval')!.payload as EventPayload<'train.eval'>;
    expect(ev.modelVersion).toBe(1);
    const classNames = service.project!.listClasses().map((c) => c.name).sort();
    expect(ev.eval.perClass.map((c) => c.name).sort()).toEqual(classNames);
    // per-class box AP50 comes from the evaluation that gave box AP50: the classes with ground truth average to it
    const ap50s = ev.eval.perClass.map((c) => c.ap50).filter((a): a is number => a !== null);
    expect(ap50s.length).toBeGreaterThan(0);
    expect(ap50s.reduce((a, b) => a + b, 0) / ap50s.length).toBeCloseTo(ev.eval.boxAP50!, 12);
    expect(ev.eval.confusion!.matrix).toHaveLength(ev.eval.perClass.length + 1);
    const st = await call<MethodOutput<'train.status'>>('train.status');
    expect(st.state).toBe('done');
    expect(st.history.length).toBeGreaterThan(0);
    expect(st.eval).not.toBeNull();
    const saved = (service.project as FullProjectStore).activeModel(plan.tasks.join('+'))!;
    const spec = JSON.parse(readFileSync(specPath(join(service.project!.dir, saved.files.find((f) => f.endsWith('.safetensors'))!)), 'utf8')) as TaskModelSpec;
    expect(spec.hst.m_embed_dims).toEqual([24, 48, 64, 72]);
  }, 600_000);

  it('lists, compares and guards model versions', async () => {
    const { items } = await call<MethodOutput<'models.list'>>('models.list');
    expect(items).toHaveLength(1);
    const m = items[0];
    expect(m).toMatchObject({ id: 1, active: true, origin: expect.stringMatching(/^fine-tune \((fast|full)\)$/) });
    expect(m.trainableParams).toBeGreaterThan(1000);
    expect(m.backbone).toMatch(/random/);
    expect(m.eval!.boxAP50).not.toBeNull();
    const cmp = await call<MethodOutput<'models.compare'>>('models.compare', { a: 1, b: 1 });
    expect(cmp.rows.find((r) => r.metric === 'box AP50')!.a).toBe(m.eval!.boxAP50);
    await expect(call('models.delete', { id: 1 })).rejects.toThrow(/is active/);
    await expect(call('models.get', { id: 99 })).rejects.toThrow(/does not exist/);
  });

  it('predicts unlabeled images; accept makes one undoable changeset; reject drops; label-next ranks', async () => {
    const { jobId } = await call<MethodOutput<'predict.run'>>('predict.run', { split: 'unlabeled', scoreThreshold: 0 });
    const done = await jobDone(jobId);
    expect(done.status, done.message).toBe('ok');
    expect(done.added).toBe(2);
    const q = await call<MethodOutput<'al.queue'>>('al.queue', {});
    expect(q.modelVersion).toBe(1);
    expect(q.items).toHaveLength(2);
    expect(q.items[0].score).toBeGreaterThanOrEqual(q.items[1].score);
    const imageId = q.items[0].imageId;
    const { items: preds } = await call<MethodOutput<'predictions.list'>>('predictions.list', { imageId });
    expect(preds.length).toBeGreaterThan(1); // threshold 0 on an untrained model: plenty
    const before = service.project!.revision();
    const acc = await call<MethodOutput<'predictions.accept'>>('predictions.accept', { ids: [preds[0].id] });
    expect(acc.revision).toBe(before + 1);
    expect(acc.created[0]).toMatchObject({ imageId, classId: preds[0].classId, source: 'human', modelVersion: 1 });
    expect(acc.inverse.deleted.map((a) => a.id)).toEqual([acc.created[0].id]);
    const anns = service.project!.annotationsOf(imageId);
    expect(anns.map((a) => a.id)).toContain(acc.created[0].id);
    const rej = await call<MethodOutput<'predictions.reject'>>('predictions.reject', { ids: [preds[1].id] });
    expect(rej.removed).toBe(1);
    const left = await call<MethodOutput<'predictions.list'>>('predictions.list', { imageId });
    expect(left.items.map((p) => p.id)).not.toContain(preds[0].id);
    expect(left.items.map((p) => p.id)).not.toContain(preds[1].id);
    expect(left.items).toHaveLength(preds.length - 2);
    await expect(call('predictions.accept', { ids: [preds[0].id] })).rejects.toThrow(/no longer exists/);
  }, 300_000);

  it('incremental settings validate; a new label triggers an update that is promoted or kept with a reason', async () => {
    const s0 = await call<MethodOutput<'incremental.settings'>>('incremental.settings', {});
    expect(s0.enabled).toBe(true);
    await expect(call('incremental.settings', { set: { steps: 0 } })).rejects.toThrow(/steps/);
    const s1 = await call<MethodOutput<'incremental.settings'>>('incremental.settings', { set: { debounceMs: 10, steps: 2, batchSize: 2 } });
    expect(s1).toMatchObject({ debounceMs: 10, steps: 2 });
    const img = service.project!.listImages({ status: 'unlabeled' }).items[0];
    const now = Date.now();
    await call('annotations.apply', {
      changeset: { created: [{ id: 'inc-1', imageId: img.id, classId: 1, geometry: { kind: 'box', x: 10, y: 10, w: 30, h: 30 }, createdAt: now, updatedAt: now }], updated: [], deleted: [] },
    });
    for (let i = 0; i < 1200 && !events.some((e) => e.event === 'incremental.update' && ['done', 'error', 'skipped'].includes((e.payload as { state: string }).state)); i++) await new Promise((r) => setTimeout(r, 100));
    await service.loop.incrementalIdle();
    const upd = events.filter((e) => e.event === 'incremental.update').map((e) => e.payload as EventPayload<'incremental.update'>);
    expect(upd[0].state).toBe('scheduled');
    const end = upd.at(-1)!;
    expect(end.state, end.message).toBe('done');
    expect(end.mode).toMatch(/fast|full/);
    expect(end.message).toMatch(end.promoted ? /model updated \((fast|full) mode, [\d.]+ s\)/ : /candidate kept: /);
    const { items } = await call<MethodOutput<'models.list'>>('models.list');
    expect(items.find((m) => m.id === end.versionId)!.origin).toBe('incremental');
  }, 300_000);

  it('predict and export run in the worker and cancel there: no stored result, no output left behind', async () => {
    const p = await call<MethodOutput<'predict.run'>>('predict.run', { split: 'all', scoreThreshold: 0 });
    await call('jobs.cancel', { jobId: p.jobId });
    const pd = await jobDone(p.jobId);
    expect(pd.status, pd.message).toBe('cancelled');
    const out = join(tmp, 'export-cancelled');
    const e = await call<MethodOutput<'export.run'>>('export.run', { format: 'onnx', out });
    await call('jobs.cancel', { jobId: e.jobId });
    const ed = await jobDone(e.jobId);
    expect(ed.status, ed.message).toBe('cancelled');
    expect(existsSync(join(out, 'model.onnx'))).toBe(false);
  }, 300_000);

  it('exports tfjs in a job, and says clearly when a version does not exist', async () => {
    const out = join(tmp, 'export-tfjs');
    const { jobId } = await call<MethodOutput<'export.run'>>('export.run', { format: 'tfjs', out });
    const done = await jobDone(jobId);
    expect(done.status, done.message).toBe('ok');
    expect(done.message).toMatch(/exported model version \d+ as tfjs/);
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'))).toHaveProperty('weightsManifest');
    await expect(call('export.run', { format: 'onnx', out: join(tmp, 'o'), version: 42 })).rejects.toThrow(/model version 42 does not exist/);
    const again = await jobDone((await call<MethodOutput<'export.run'>>('export.run', { format: 'tfjs', out })).jobId);
    expect(again.status).toBe('error'); // never overwrites a finished export
    expect(again.message).toMatch(/exist/);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
  }, 300_000);

  it('writes a PyTorch training bundle from the active version and imports a task-model file back (jobs in the worker)', async () => {
    const out = join(tmp, 'bundle');
    const ex = await jobDone((await call<MethodOutput<'export.training'>>('export.training', { out })).jobId);
    expect(ex.status, ex.message).toBe('ok');
    expect(ex.message).toMatch(/training bundle written to .*torchrun .*-m hst_trainer\.train/);
    for (const f of ['spec.json', 'train.json', 'weights.safetensors', 'README.md', 'dataset/train.json']) expect(existsSync(join(out, f)), f).toBe(true);
    // the bundle's start weights are a complete task model: they import as a version (origin: not the studio's trainer)
    const before = (await call<MethodOutput<'models.list'>>('models.list')).items.length;
    const im = await jobDone((await call<MethodOutput<'models.import'>>('models.import', { path: join(out, 'weights.safetensors') })).jobId);
    expect(im.status, im.message).toBe('ok');
    expect(im.message).toMatch(/as model version \d+/);
    const items = (await call<MethodOutput<'models.list'>>('models.list')).items;
    expect(items.length).toBe(before + 1);
    expect(items.find((m) => m.active)!.origin).toBe('external');
    const bad = await jobDone((await call<MethodOutput<'models.import'>>('models.import', { path: join(out, 'train.json') })).jobId);
    expect(bad.status).toBe('error');
    expect(bad.message).toMatch(/expected a \.safetensors file/);
  }, 300_000);

  // last: it closes the studio
  it('closing the studio while the evaluation after a fine-tune runs stops that evaluation and its worker', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const { jobId } = await call<MethodOutput<'train.start'>>('train.start', { advanced: TINY });
    const done = await jobDone(jobId);
    expect(done.status, done.message).toBe('ok');
    // the val evaluation starts after the job: its worker is up
    for (let i = 0; i < 100 && ports() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(ports()).toBeGreaterThan(0);
    const before = events.length;
    service.close();
    for (let i = 0; i < 600 && ports() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(ports()).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    // nothing reported for a project that is gone (it used to say "evaluation details failed" once its worker ended)
    expect(events.slice(before).filter((e) => e.event === 'train.eval' || e.event === 'job.progress')).toEqual([]);
  }, 300_000);
});
