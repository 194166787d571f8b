// Model suggestions in the editor: the open image's predictions above a confidence threshold, accepted as
// human annotations through the history store (one undoable changeset) or rejected, or edited on the canvas
// first (editor/suggestion-draft.ts) and accepted as edited; plus running predict and the "label next" queue.
import type { PredictionInfo } from '@contract/api';
import type { Annotation } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, toRaw } from 'vue';
import type { Geometry } from '@contract/schemas';
import type { SuggestionDraft } from '../editor/suggestion-draft';
import { hiddenHint, thresholdShowingAll, viewSuggestions } from '../editor/suggestion-filter';
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

  /** merge duplicates across classes (class-agnostic NMS) */
  const classAgnostic = ref(false);
  /** the suggestion whose list row the pointer is over: the canvas highlights it */
  const hoverId = ref<number | null>(null);
  const view = computed(() => viewSuggestions(items.value, { threshold: threshold.value, classAgnostic: classAgnostic.value }));
  const visible = computed(() => (show.value ? view.value.visible : []));
  const hint = computed(() => hiddenHint(view.value, threshold.value));
  const showAll = () => (threshold.value = thresholdShowingAll(items.value));

  async function load(id: number | null) {
    imageId.value = id;
    if (draft.value && draft.value.prediction.imageId !== id) draft.value = null;
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
    if (draft.value && ids.includes(draft.value.prediction.id)) draft.value = null;
    const now = Date.now();
    const created: Annotation[] = picked.map((p) => ({
      id: newId(), imageId: p.imageId, classId: p.classId, geometry: structuredClone(toRaw(p.geometry)), source: 'human', score: null, modelVersion: p.modelVersion, createdAt: now, updatedAt: now,
    }));
    items.value = items.value.filter((p) => !ids.includes(p.id));
    await useHistoryStore().commit({ created, updated: [], deleted: [], label: `accept ${created.length} suggestion${created.length === 1 ? '' : 's'}` });
    await api()['predictions.reject']({ ids: picked.map((p) => p.id) });
  }

  const acceptAboveThreshold = () => accept(visible.value.map((p) => p.id));

  // ---- edit then accept ----
  /** the suggestion being edited on the canvas (its handles move `geometry`), or null */
  const draft = shallowRef<SuggestionDraft | null>(null);

  function editStart(id: number) {
    const p = items.value.find((x) => x.id === id);
    if (!p) return;
    draft.value = { prediction: structuredClone(toRaw(p)), geometry: structuredClone(toRaw(p.geometry)), edited: false };
  }

  function editUpdate(geometry: Geometry) {
    if (draft.value) draft.value = { ...draft.value, geometry, edited: true };
  }

  function editCancel() {
    draft.value = null;
  }

  /** The edited geometry becomes a human annotation in ONE changeset (undoable); the suggestion is dropped. */
  async function acceptDraft() {
    const d = draft.value;
    if (!d) return;
    draft.value = null;
    const p = d.prediction;
    const now = Date.now();
    const created: Annotation[] = [{
      id: newId(), imageId: p.imageId, classId: p.classId, geometry: structuredClone(toRaw(d.geometry)), source: 'human', score: null, modelVersion: p.modelVersion, createdAt: now, updatedAt: now,
    }];
    items.value = items.value.filter((x) => x.id !== p.id);
    await useHistoryStore().commit({ created, updated: [], deleted: [], label: d.edited ? 'accept edited suggestion' : 'accept 1 suggestion' });
    await api()['predictions.reject']({ ids: [p.id] });
  }

  async function reject(ids: number[]) {
    if (!ids.length) return;
    if (draft.value && ids.includes(draft.value.prediction.id)) draft.value = null;
    items.value = items.value.filter((p) => !ids.includes(p.id));
    await api()['predictions.reject']({ ids });
  }

  async function run(split: 'unlabeled' | 'val' | 'all' = 'unlabeled') {
    return api()['predict.run']({ split });
  }

  /** "Predict unlabeled": a sentence instead of a silent no-op when every image is labelled already. */
  async function runUnlabeled(): Promise<{ jobId: string } | { nothing: string }> {
    const c = await api()['images.counts']({});
    if (c.unlabeled === 0) return { nothing: `Nothing to predict: all ${c.all} image${c.all === 1 ? ' is' : 's are'} labelled. Predict on the val split to check the model, or import more images.` };
    return run('unlabeled');
  }

  async function loadQueue(limit = 500) {
    queue.value = (await api()['al.queue']({ limit })).items;
    return queue.value;
  }

  return { imageId, items, threshold, show, classAgnostic, hoverId, view, hint, showAll, visible, queue, draft, load, accept, acceptAboveThreshold, reject, run, runUnlabeled, loadQueue, editStart, editUpdate, editCancel, acceptDraft };
});
