// The open image's annotations as plain data, plus selection, hidden ids and the clipboard.
import type { Annotation, Changeset, ImageRecord } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { applyToList, sortByCreation } from '../editor/changeset';
import { firstLevel, prefetchLevel } from '../editor/image-levels';
import { api, transport } from '../transport/current';
import { useImagesStore } from './images';

/**
 * Starts the first-paint level download now, before the annotation calls: the server answers in arrival
 * order, and 2,000 shapes take it longer than bytes from its cache. It is decoded as soon as it arrives (while
 * the editor mounts); the canvas takes over the decoded level.
 */
function prefetchFirstLevel(rec: ImageRecord | undefined) {
  if (!rec) return;
  prefetchLevel(transport().imageUrl(rec, firstLevel(rec.width, rec.height) ?? undefined), { decode: true });
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
    // The gallery's record is enough to start painting (size, thumbnail): no round trip before the pixels.
    const known = useImagesStore().items.find((i) => i.id === imageId);
    prefetchFirstLevel(known);
    const reset = (img: ImageRecord) => {
      image.value = img;
      list.value = [];
      selected.value = [];
      hidden.value = [];
    };
    if (known) reset(known);
    // The record is asked for first (the server answers in order), shapes follow (editing waits for them:
    // see loading).
    const imgP = api()['images.get']({ id: imageId });
    const annsP = api()['annotations.list']({ imageId });
    annsP.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    try {
      const img = await imgP;
      if (seq !== loadSeq) return; // a newer navigation won
      if (image.value?.id === img.id) image.value = img; // fresher status/split; same id keeps the canvas as is
      else reset(img);
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
