// The loop's renderer stores over an in-memory transport: training follows events, models compare/delete,
// suggestions accept as one undoable changeset (through the history store) and reject, threshold filters.
import type { EventName, EventPayload, PredictionInfo, StudioApi } from '../../src-main/contract/api';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useAnnotationsStore } from '../../src-renderer/src/stores/annotations';
import { useHistoryStore } from '../../src-renderer/src/stores/history';
import { useModelsStore } from '../../src-renderer/src/stores/models';
import { usePredictionsStore } from '../../src-renderer/src/stores/predictions';
import { useTrainingStore } from '../../src-renderer/src/stores/training';
import { setTransport } from '../../src-renderer/src/transport/current';
import { memoryTransport } from './memory-transport';

type Listener = (p: unknown) => void;
let mem: ReturnType<typeof memoryTransport>;
let listeners: Map<string, Set<Listener>>;
let calls: { name: string; input: unknown }[];
let preds: PredictionInfo[];

function fire<K extends EventName>(event: K, payload: EventPayload<K>) {
  for (const l of listeners.get(event) ?? []) l(payload);
}

const pred = (id: number, score: number): PredictionInfo => ({ id, imageId: 1, modelVersion: 3, classId: 1, score, geometry: { kind: 'box', x: id, y: 0, w: 10, h: 10 } });
const model = (id: number, active: boolean, ap50: number) => ({
  id, name: `v${id}`, task: 'detect', active, parentId: null, datasetRevision: id, createdAt: id, trainableParams: 1000, seconds: 1, backend: 'cpu', backbone: 'random', origin: 'full',
  eval: { boxAP: null, boxAP50: ap50, maskAP: null, maskAP50: null, mIoU: null, perClass: [], confusion: null, images: 2 }, metrics: {},
});

beforeEach(() => {
  setActivePinia(createPinia());
  mem = memoryTransport();
  mem.setClasses([{ id: 1, name: 'cat', color: '#4f9dff', hotkey: null, order: 0 }]);
  listeners = new Map();
  calls = [];
  preds = [pred(11, 0.9), pred(12, 0.5), pred(13, 0.1)];
  const models = [model(2, false, 0.4), model(1, true, 0.5)];
  const extra: Partial<StudioApi> = {
    'train.status': async () => ({ state: 'idle', jobId: null, plan: null, step: 0, totalSteps: 0, modelVersion: null, history: [], eval: null }),
    'train.plan': async () => ({ tasks: ['detect'], size: 64, steps: 5, batchSize: 2, lr: 0.002, backbone: 'random', randomBackbone: true, trainImages: 4, valImages: 2, preset: 'tiny' }),
    'train.start': async (input) => {
      calls.push({ name: 'train.start', input });
      return { jobId: 'j1', plan: { tasks: ['detect'], size: 64, steps: 5, batchSize: 2, lr: 0.002, backbone: 'random', randomBackbone: true, trainImages: 4, valImages: 2, preset: 'tiny' } };
    },
    'models.list': async () => ({ items: models }),
    'models.delete': async ({ id }) => {
      calls.push({ name: 'models.delete', input: { id } });
      models.splice(models.findIndex((m) => m.id === id), 1);
      return { ok: true };
    },
    'models.compare': async ({ a, b }) => ({ a: models.find((m) => m.id === a)!, b: models.find((m) => m.id === b)!, rows: [{ metric: 'box AP50', a: 0.4, b: 0.5 }] }),
    'predictions.list': async () => ({ items: preds }),
    'predictions.reject': async ({ ids }) => {
      calls.push({ name: 'predictions.reject', input: { ids } });
      preds = preds.filter((p) => !ids.includes(p.id));
      return { removed: ids.length };
    },
  };
  Object.assign(mem.transport.api, extra);
  mem.transport.on = ((event: string, cb: Listener) => {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event)!.add(cb);
    return () => listeners.get(event)!.delete(cb);
  }) as typeof mem.transport.on;
  setTransport(mem.transport);
});

describe('training store', () => {
  it('starts with the advanced overrides and follows progress, eval and done events of its job only', async () => {
    const t = useTrainingStore();
    await t.attach();
    t.advanced = { backbone: 'random', preset: 'tiny' };
    await t.start();
    expect(calls[0].input).toEqual({ advanced: { backbone: 'random', preset: 'tiny' } });
    expect(t.running).toBe(true);
    fire('train.progress', { jobId: 'other', step: 9, totalSteps: 9, loss: 9, lr: 0, parts: {}, imagesPerSec: 1, etaSec: 0 });
    expect(t.history).toHaveLength(0);
    fire('train.progress', { jobId: 'j1', step: 1, totalSteps: 5, loss: 2.5, lr: 0.001, parts: { cls: 1 }, imagesPerSec: 3, etaSec: 4 });
    fire('train.progress', { jobId: 'j1', step: 2, totalSteps: 5, loss: 2.0, lr: 0.002, parts: { cls: 0.8 }, imagesPerSec: 3, etaSec: 3 });
    expect(t.history.map((p) => p.loss)).toEqual([2.5, 2.0]);
    expect(t.progress).toBeCloseTo(0.4);
    fire('job.done', { jobId: 'j1', kind: 'train', status: 'ok', message: 'model version 1 trained' });
    expect(t.state).toBe('done');
    fire('train.eval', { jobId: 'j1', modelVersion: 1, eval: model(1, true, 0.7).eval });
    expect(t.evaluation?.boxAP50).toBe(0.7);
    fire('incremental.update', { state: 'done', mode: 'fast', promoted: true, versionId: 2, seconds: 3.1, message: 'model updated (fast mode, 3.1 s)' });
    expect(t.incremental?.message).toBe('model updated (fast mode, 3.1 s)');
  });

  it('pauses (job.done of a paused run keeps it paused) and resumes keeping the history up to the checkpoint', async () => {
    const plan = { tasks: ['detect'], size: 64, steps: 5, batchSize: 2, lr: 0.002, backbone: 'random', randomBackbone: true, trainImages: 4, valImages: 2, preset: 'tiny' };
    mem.transport.api['train.pause'] = async () => {
      calls.push({ name: 'train.pause', input: {} });
      return { ok: true };
    };
    mem.transport.api['train.resume'] = async () => {
      calls.push({ name: 'train.resume', input: {} });
      return { jobId: 'j2', plan, fromStep: 2 };
    };
    const t = useTrainingStore();
    await t.attach();
    await t.start();
    fire('train.progress', { jobId: 'j1', step: 1, totalSteps: 5, loss: 2.5, lr: 0.001, parts: {}, imagesPerSec: 3, etaSec: 4 });
    fire('train.progress', { jobId: 'j1', step: 2, totalSteps: 5, loss: 2.0, lr: 0.002, parts: {}, imagesPerSec: 3, etaSec: 3 });
    await t.pause();
    expect(t.pausing).toBe(true);
    fire('train.progress', { jobId: 'j1', step: 3, totalSteps: 5, loss: 1.9, lr: 0.002, parts: {}, imagesPerSec: 3, etaSec: 2 });
    fire('train.state', { jobId: 'j1', state: 'paused', step: 3, totalSteps: 5, checkpointStep: 3, message: 'paused at step 3/5' });
    fire('job.done', { jobId: 'j1', kind: 'train', status: 'cancelled', message: 'paused at step 3' });
    expect(t.state).toBe('paused');
    expect(t.resumable).toBe(true);
    expect(t.pausing).toBe(false);
    expect(t.checkpointStep).toBe(3);
    mem.transport.api['train.resume'] = async () => ({ jobId: 'j2', plan, fromStep: 2 });
    await t.resume();
    expect(t.state).toBe('running');
    expect(t.jobId).toBe('j2');
    expect(t.history.map((p) => p.step)).toEqual([1, 2]); // step 3 is redone from the checkpoint at 2
    fire('train.progress', { jobId: 'j1', step: 4, totalSteps: 5, loss: 9, lr: 0, parts: {}, imagesPerSec: 3, etaSec: 1 });
    expect(t.history).toHaveLength(2); // the old job's events no longer count
  });

  it('shows a run the studio stopped in the middle of as interrupted and resumable', async () => {
    mem.transport.api['train.status'] = async () => ({
      state: 'interrupted', jobId: 'old', plan: null, step: 10, totalSteps: 40, modelVersion: null, history: [{ step: 10, loss: 1, lr: 0.001 }], eval: null,
      checkpointStep: 10, resumable: true, message: 'the studio stopped while this fine-tune ran',
    });
    const t = useTrainingStore();
    await t.attach();
    expect(t.state).toBe('interrupted');
    expect(t.resumable).toBe(true);
    expect(t.checkpointStep).toBe(10);
    expect(t.running).toBe(false);
    expect(t.message).toMatch(/stopped while/);
  });

  it('keeps the core\'s sentence when the plan cannot be made', async () => {
    mem.transport.api['train.plan'] = async () => {
      throw new Error('no pretrained backbone is installed');
    };
    const t = useTrainingStore();
    await t.loadPlan();
    expect(t.plan).toBeNull();
    expect(t.planError).toMatch(/no pretrained backbone/);
  });
});

describe('models store', () => {
  it('lists, compares and deletes (dropping a comparison that shows the deleted version)', async () => {
    const m = useModelsStore();
    await m.reload();
    expect(m.items.map((x) => x.id)).toEqual([2, 1]);
    expect(m.active()?.id).toBe(1);
    await m.compare(2, 1);
    expect(m.comparison?.rows[0]).toEqual({ metric: 'box AP50', a: 0.4, b: 0.5 });
    await m.remove(2);
    expect(m.comparison).toBeNull();
    expect(m.items.map((x) => x.id)).toEqual([1]);
  });
});

describe('predictions store', () => {
  it('filters by threshold; accept-all-above is one undoable changeset of human annotations; reject drops', async () => {
    const ann = useAnnotationsStore();
    const history = useHistoryStore();
    const p = usePredictionsStore();
    await ann.load(1);
    await p.load(1);
    p.threshold = 0.3;
    expect(p.visible.map((x) => x.id)).toEqual([11, 12]);
    await p.acceptAboveThreshold();
    expect(mem.applied).toHaveLength(1);
    const cs = mem.applied[0];
    expect(cs.created.map((a) => [a.source, a.modelVersion, a.geometry.kind === 'box' && a.geometry.x])).toEqual([['human', 3, 11], ['human', 3, 12]]);
    expect(ann.list).toHaveLength(2);
    expect(calls.find((c) => c.name === 'predictions.reject')!.input).toEqual({ ids: [11, 12] });
    expect(p.items.map((x) => x.id)).toEqual([13]);
    await history.undo();
    expect(ann.list).toHaveLength(0);
    await p.reject([13]);
    expect(p.items).toEqual([]);
    expect(preds).toEqual([]);
  });

  it('edit then accept: the edited geometry becomes one human annotation in one undoable changeset', async () => {
    const ann = useAnnotationsStore();
    const history = useHistoryStore();
    const p = usePredictionsStore();
    await ann.load(1);
    await p.load(1);
    p.editStart(12);
    expect(p.draft?.geometry).toEqual({ kind: 'box', x: 12, y: 0, w: 10, h: 10 });
    p.editUpdate({ kind: 'box', x: 20, y: 5, w: 30, h: 15 });
    expect(p.items.find((x) => x.id === 12)!.geometry).toEqual({ kind: 'box', x: 12, y: 0, w: 10, h: 10 }); // the suggestion itself is untouched
    await p.acceptDraft();
    expect(p.draft).toBeNull();
    expect(mem.applied).toHaveLength(1);
    const cs = mem.applied[0];
    expect(cs.label).toBe('accept edited suggestion');
    expect(cs.updated).toEqual([]);
    expect(cs.created).toHaveLength(1);
    expect(cs.created[0]).toMatchObject({ source: 'human', classId: 1, modelVersion: 3, geometry: { kind: 'box', x: 20, y: 5, w: 30, h: 15 } });
    expect(ann.list.map((a) => a.geometry)).toEqual([{ kind: 'box', x: 20, y: 5, w: 30, h: 15 }]);
    expect(calls.find((c) => c.name === 'predictions.reject')!.input).toEqual({ ids: [12] });
    expect(p.items.map((x) => x.id)).toEqual([11, 13]);
    await history.undo();
    expect(ann.list).toHaveLength(0);
  });

  it('an edit is dropped when cancelled, when its suggestion is rejected, or when another image opens', async () => {
    const p = usePredictionsStore();
    await p.load(1);
    p.editStart(11);
    p.editCancel();
    expect(p.draft).toBeNull();
    p.editStart(11);
    await p.reject([11]);
    expect(p.draft).toBeNull();
    p.editStart(12);
    await p.load(2);
    expect(p.draft).toBeNull();
    await p.acceptDraft(); // nothing to accept: no changeset
    expect(mem.applied).toHaveLength(0);
  });
});
