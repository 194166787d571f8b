// The open image's annotations as plain data, plus selection, hidden ids and the clipboard.
import type { Annotation, Changeset, ImageRecord } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { applyToList, sortByCreation } from '../editor/changeset';
import { firstLevel } from '../editor/image-levels';
import { api, transport } from '../transport/current';
import { useImagesStore } from './images';

/** Starts the first-paint level download now, in parallel with the annotations (the canvas reuses it). */
function prefetchFirstLevel(imageId: number) {
  const rec = useImagesStore().items.find((i) => i.id === imageId);
  if (!rec || typeof Image === 'undefined') return;
  new Image().src = transport().imageUrl(imageId, firstLevel(rec.width, rec.height) ?? undefined);
}

export const useAnnotationsStore = defineStore('annotations', () => {
  const image = shallowRef<ImageRecord | null>(null);
  /** replaced, never mutated: shapes are immutable snapshots (cheap to diff, safe to keep in undo history) */
  const list = shallowRef<Annotation[]>([]);
  const selected = ref<string[]>([]);
  const hidden = ref<string[]>([]);
  const clipboard = shallowRef<Annotation[]>([]);
  const loading = ref(false);
  let loadSeq = 0;

  const byId = computed(() => new Map(list.value.map((a) => [a.id, a])));
  const selection = computed(() => selected.value.map((id) => byId.value.get(id)).filter((a): a is Annotation => !!a));

  async function load(imageId: number) {
    const seq = ++loadSeq;
    loading.value = true;
    globalThis.performance?.mark?.('hst:image-requested', { detail: imageId });
    prefetchFirstLevel(imageId);
    // The record is asked for first (the server answers in order): the image shows as soon as it is here,
    // shapes follow (editing waits for them: see loading).
    const imgP = api()['images.get']({ id: imageId });
    const annsP = api()['annotations.list']({ imageId });
    annsP.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    try {
      const img = await imgP;
      if (seq !== loadSeq) return; // a newer navigation won
      image.value = img;
      list.value = [];
      selected.value = [];
      hidden.value = [];
      const anns = await annsP;
      if (seq !== loadSeq) return;
      list.value = sortByCreation(anns.items);
    } finally {
      if (seq === loadSeq) loading.value = false;
    }
  }

  function applyLocal(cs: Changeset) {
    if (!image.value) return;
    list.value = applyToList(list.value, cs, image.value.id);
    const ids = new Set(list.value.map((a) => a.id));
    selected.value = selected.value.filter((id) => ids.has(id));
  }

  function select(ids: string[]) {
    selected.value = [...new Set(ids)];
  }
  function toggleHidden(id: string) {
    hidden.value = hidden.value.includes(id) ? hidden.value.filter((h) => h !== id) : [...hidden.value, id];
  }
  function clear() {
    image.value = null;
    list.value = [];
    selected.value = [];
  }

  return { image, list, selected, hidden, clipboard, loading, byId, selection, load, applyLocal, select, toggleHidden, clear };
});
