// The gallery's query (filters, sort), its results and counts, and the ordered ids the editor walks.
import type { ImageQuery } from '@contract/api';
import type { ImageRecord } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '../transport/current';

/** Enough tiles for a large screen (12 columns × 10 rows and the rows kept above and below). */
const FIRST_PAGE = 200;
const CHUNK = 1000;
/** The gallery holds this many records at most (the grid and next/previous walk them in memory). */
const MAX_IMAGES = 50_000;

export type StatusFilter = NonNullable<ImageQuery['status']> | 'all';

export const useImagesStore = defineStore('images', () => {
  const status = ref<StatusFilter>('all');
  const classId = ref<number | null>(null);
  const split = ref<ImageQuery['split'] | null>(null);
  /** image-level tag filter */
  const tag = ref<string | null>(null);
  const sort = ref<NonNullable<ImageQuery['sort']>>('id');
  /** records are immutable snapshots: shallowRef keeps 10,000 of them out of deep reactivity */
  const items = shallowRef<ImageRecord[]>([]);
  const total = ref(0);
  const counts = ref({ all: 0, unlabeled: 0, labeled: 0, reviewed: 0, predicted: 0 });
  const currentId = ref<number | null>(null);
  const loading = ref(false);

  const query = computed<ImageQuery>(() => ({
    status: status.value === 'all' ? undefined : status.value,
    classId: classId.value ?? undefined,
    split: split.value ?? undefined,
    tag: tag.value ?? undefined,
    sort: sort.value,
  }));

  let reloadSeq = 0;
  let shownQuery = '';
  /**
   * A first screenful comes on its own, then the rest in chunks, one request at a time: the gallery shows
   * thumbnails while the list fills, and the server (one thread) answers the thumbnail requests between the
   * chunks instead of after one 10,000-record answer. A newer reload wins over an older one.
   */
  async function reload() {
    const seq = ++reloadSeq;
    loading.value = true;
    try {
      const q = query.value;
      const key = JSON.stringify(q);
      const first = await api()['images.list']({ ...q, limit: FIRST_PAGE });
      if (seq !== reloadSeq) return;
      const countsP = api()['images.counts']({});
      countsP.catch(() => undefined); // awaited below
      // The same query again (back from the editor): keep the full list on screen rather than shrink it.
      const progressive = key !== shownQuery || first.total <= FIRST_PAGE;
      if (progressive) {
        shownQuery = key;
        items.value = first.items;
        total.value = Math.min(first.total, MAX_IMAGES);
      }
      let all = first.items;
      while (all.length < Math.min(first.total, MAX_IMAGES)) {
        const next = await api()['images.list']({ ...q, offset: all.length, limit: CHUNK });
        if (seq !== reloadSeq) return;
        if (!next.items.length) break; // images deleted meanwhile
        all = all.concat(next.items);
        if (progressive) items.value = all;
      }
      const c = await countsP;
      if (seq !== reloadSeq) return;
      items.value = all;
      total.value = Math.min(first.total, MAX_IMAGES);
      counts.value = c;
    } finally {
      if (seq === reloadSeq) loading.value = false;
    }
  }

  /** Another project: its list is not this one's. */
  function clear() {
    reloadSeq++;
    shownQuery = '';
    items.value = [];
    total.value = 0;
    currentId.value = null;
    loading.value = false;
  }

  const index = computed(() => items.value.findIndex((i) => i.id === currentId.value));
  const current = computed(() => (index.value >= 0 ? items.value[index.value] : null));

  /** Next/previous within the gallery's current order; falls back to the full list when the image left the filter. */
  function neighbour(step: 1 | -1): number | null {
    const list = items.value;
    if (!list.length) return null;
    const i = index.value;
    if (i < 0) return list[0].id;
    const j = i + step;
    return j >= 0 && j < list.length ? list[j].id : null;
  }

  return { status, classId, split, tag, sort, items, total, counts, currentId, loading, query, reload, clear, index, current, neighbour };
});
