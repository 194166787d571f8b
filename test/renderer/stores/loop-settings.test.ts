// Issue 18 smaller things: "Predict unlabeled" with nothing unlabeled says so; background incremental updates
// have a visible on/off setting.
import type { StudioApi } from '../../../src-main/contract/api';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { usePredictionsStore } from '../../../src-renderer/src/stores/predictions';
import { useTrainingStore } from '../../../src-renderer/src/stores/training';
import { setTransport } from '../../../src-renderer/src/transport/current';

let unlabeled = 0;
let enabled = true;
const ran: string[] = [];
beforeEach(() => {
  setActivePinia(createPinia());
  ran.length = 0;
  const api: Partial<StudioApi> = {
    'images.counts': async () => ({ all: 12, unlabeled, labeled: 12 - unlabeled, reviewed: 0, predicted: 0 }),
    'predict.run': async ({ split }) => (ran.push(split ?? ''), { jobId: 'p1' }),
    'incremental.settings': async ({ set }) => {
      if (set?.enabled !== undefined) enabled = set.enabled;
      return { enabled, debounceMs: 1, mode: 'auto', steps: 1, batchSize: 1, lr: 1, replayFraction: 0, epsilon: 0, flips: false, seed: 0 };
    },
  };
  setTransport({ kind: 'memory', api: api as StudioApi, on: () => () => undefined, imageUrl: () => '', thumbUrl: () => '' });
});

describe('loop settings in the UI', () => {
  it('"Predict unlabeled" with nothing unlabeled answers with a sentence and starts no job', async () => {
    unlabeled = 0;
    const r = await usePredictionsStore().runUnlabeled();
    expect(r).toEqual({ nothing: expect.stringMatching(/Nothing to predict: all 12 images are labelled/) });
    expect(ran).toEqual([]);
    unlabeled = 3;
    expect(await usePredictionsStore().runUnlabeled()).toEqual({ jobId: 'p1' });
    expect(ran).toEqual(['unlabeled']);
  });
  it('reads and switches background incremental updates', async () => {
    const t = useTrainingStore();
    expect(t.backgroundUpdates).toBeNull();
    await t.loadBackgroundUpdates();
    expect(t.backgroundUpdates).toBe(true);
    await t.setBackgroundUpdates(false);
    expect(t.backgroundUpdates).toBe(false);
    expect(enabled).toBe(false);
  });
});
