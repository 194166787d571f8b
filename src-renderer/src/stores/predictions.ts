// Model suggestions in the editor: the open image's predictions above a confidence threshold, accepted as
// human annotations through the history store (one undoable changeset) or rejected; plus running predict
// and the "label next" queue.
import type { PredictionInfo } from '@contract/api';
import type { Annotation } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref, toRaw } from 'vue';
import { api } from '../transport/current';
import { useHistoryStore } from './history';

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `s-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export const usePredictionsStore = defineStore('predictions', () => {
  const imageId = ref<number | null>(null);
  const items = ref<PredictionInfo[]>([]);
  const threshold = ref(0.3);
  const show = ref(true);
  const queue = ref<{ imageId: number; score: number }[]>([]);

  const visible = computed(() => (show.value ? items.value.filter((p) => p.score >= threshold.value) : []));

  async function load(id: number | null) {
    imageId.value = id;
    if (id === null) {
      items.value = [];
      return;
    }
    const r = await api()['predictions.list']({ imageId: id });
    if (imageId.value === id) items.value = r.items;
  }

  /** Accept = one changeset creating human annotations (undoable in the editor), then drop the suggestions. */
  async function accept(ids: number[]) {
    const picked = items.value.filter((p) => ids.includes(p.id));
    if (!picked.length) return;
    const now = Date.now();
    const created: Annotation[] = picked.map((p) => ({
      id: newId(), imageId: p.imageId, classId: p.classId, geometry: structuredClone(toRaw(p.geometry)), source: 'human', score: null, modelVersion: p.modelVersion, createdAt: now, updatedAt: now,
    }));
    items.value = items.value.filter((p) => !ids.includes(p.id));
    await useHistoryStore().commit({ created, updated: [], deleted: [], label: `accept ${created.length} suggestion${created.length === 1 ? '' : 's'}` });
    await api()['predictions.reject']({ ids: picked.map((p) => p.id) });
  }

  const acceptAboveThreshold = () => accept(visible.value.map((p) => p.id));

  async function reject(ids: number[]) {
    if (!ids.length) return;
    items.value = items.value.filter((p) => !ids.includes(p.id));
    await api()['predictions.reject']({ ids });
  }

  async function run(split: 'unlabeled' | 'val' | 'all' = 'unlabeled') {
    return api()['predict.run']({ split });
  }

  async function loadQueue(limit = 500) {
    queue.value = (await api()['al.queue']({ limit })).items;
    return queue.value;
  }

  return { imageId, items, threshold, show, visible, queue, load, accept, acceptAboveThreshold, reject, run, loadQueue };
});
