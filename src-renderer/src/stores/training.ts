// Fine-tune state for the Train screen: the plan, live loss/lr history from `train.progress`, the evaluation
// from `train.eval`, and the incremental updater's last word (for the status bar).
import type { EventPayload, TrainOverrides, TrainPlan, TrainStatus } from '@contract/api';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, transport } from '../transport/current';
import { messageOf } from './status';

export type Point = { step: number; loss: number; lr: number };

export const useTrainingStore = defineStore('training', () => {
  const plan = ref<TrainPlan | null>(null);
  const planError = ref<string | null>(null);
  const state = ref<TrainStatus['state']>('idle');
  const jobId = ref<string | null>(null);
  const history = ref<Point[]>([]);
  const last = ref<EventPayload<'train.progress'> | null>(null);
  const evaluation = ref<TrainStatus['eval']>(null);
  const message = ref<string | null>(null);
  const error = ref<string | null>(null);
  const modelVersion = ref<number | null>(null);
  const incremental = ref<EventPayload<'incremental.update'> | null>(null);
  const advanced = ref<TrainOverrides>({});
  /** step of the newest checkpoint (where Resume continues) and whether Resume is offered */
  const checkpointStep = ref<number | null>(null);
  const resumable = ref(false);
  /** a Pause was asked for and the worker has not stopped yet */
  const pausing = ref(false);
  let offs: (() => void)[] = [];

  const running = computed(() => state.value === 'running');
  const progress = computed(() => {
    if (last.value) return last.value.step / Math.max(1, last.value.totalSteps);
    const total = plan.value?.steps ?? 0;
    return total > 0 && checkpointStep.value ? checkpointStep.value / total : 0;
  });

  function adopt(s: TrainStatus) {
    state.value = s.state;
    jobId.value = s.jobId;
    if (s.plan) plan.value = s.plan;
    history.value = s.history;
    evaluation.value = s.eval;
    modelVersion.value = s.modelVersion;
    message.value = s.message ?? null;
    checkpointStep.value = s.checkpointStep ?? null;
    resumable.value = s.resumable ?? false;
  }

  /** Subscribes to the loop's events (once) and catches up with a run that started elsewhere. */
  async function attach() {
    if (!offs.length) {
      const t = transport();
      offs = [
        t.on('train.progress', (p) => {
          if (jobId.value && p.jobId !== jobId.value) return;
          state.value = 'running';
          last.value = p;
          message.value = p.message ?? null; // the start message ("starting the training worker") ends with the first step
          history.value = [...history.value, { step: p.step, loss: p.loss, lr: p.lr }];
        }),
        t.on('train.eval', (p) => {
          evaluation.value = p.eval;
          modelVersion.value = p.modelVersion;
        }),
        t.on('train.state', (p) => {
          if (jobId.value && p.jobId !== jobId.value) return;
          state.value = p.state;
          checkpointStep.value = p.checkpointStep;
          resumable.value = p.state === 'paused' || p.state === 'interrupted' || (p.state === 'error' && p.checkpointStep !== null);
          if (p.message) message.value = p.message;
          if (p.state !== 'running') pausing.value = false;
        }),
        t.on('job.done', (p) => {
          if (p.jobId !== jobId.value) return;
          pausing.value = false;
          if (state.value === 'paused') return; // a paused run ends its job as 'cancelled'; train.state said paused
          state.value = p.status === 'ok' ? 'done' : p.status === 'cancelled' ? 'cancelled' : 'error';
          message.value = p.message ?? null;
          if (p.status === 'error') error.value = p.message ?? 'the fine-tune failed';
        }),
        t.on('incremental.update', (p) => (incremental.value = p)),
      ];
    }
    adopt(await api()['train.status']({}));
  }

  function detach() {
    for (const off of offs) off();
    offs = [];
  }

  async function loadPlan() {
    try {
      plan.value = await api()['train.plan']({ advanced: advanced.value });
      planError.value = null;
    } catch (err) {
      plan.value = null;
      planError.value = messageOf(err);
    }
  }

  async function start() {
    error.value = null;
    history.value = [];
    last.value = null;
    evaluation.value = null;
    try {
      const r = await api()['train.start']({ advanced: advanced.value });
      jobId.value = r.jobId;
      plan.value = r.plan;
      state.value = 'running';
    } catch (err) {
      error.value = messageOf(err);
      throw err;
    }
  }

  async function cancel() {
    await api()['train.cancel']({});
    if (state.value === 'paused' || state.value === 'interrupted' || resumable.value) {
      state.value = 'cancelled';
      resumable.value = false;
    }
  }

  async function pause() {
    await api()['train.pause']({});
    pausing.value = true;
  }

  /** Continues a paused or interrupted run from its checkpoint: the charts keep the history up to it. */
  async function resume() {
    error.value = null;
    try {
      const r = await api()['train.resume']({});
      jobId.value = r.jobId;
      plan.value = r.plan;
      history.value = history.value.filter((p) => p.step <= r.fromStep);
      last.value = null;
      state.value = 'running';
      resumable.value = false;
    } catch (err) {
      error.value = messageOf(err);
      throw err;
    }
  }

  /** background incremental updates after edits: on or off (null until read), a visible setting (issue 18) */
  const backgroundUpdates = ref<boolean | null>(null);
  async function loadBackgroundUpdates() {
    backgroundUpdates.value = (await api()['incremental.settings']({})).enabled;
  }
  async function setBackgroundUpdates(enabled: boolean) {
    backgroundUpdates.value = (await api()['incremental.settings']({ set: { enabled } })).enabled;
  }

  return {
    backgroundUpdates, loadBackgroundUpdates, setBackgroundUpdates,
    plan, planError, state, jobId, history, last, evaluation, message, error, modelVersion, incremental, advanced, checkpointStep, resumable, pausing,
    running, progress, attach, detach, loadPlan, start, cancel, pause, resume,
  };
});
