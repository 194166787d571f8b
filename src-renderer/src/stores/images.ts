// The gallery's query (filters, sort), its results and counts, and the ordered ids the editor walks.
import type { ImageQuery } from '@contract/api';
import type { ImageRecord } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '../transport/current';

export type StatusFilter = NonNullable<ImageQuery['status']> | 'all';

export const useImagesStore = defineStore('images', () => {
  const status = ref<StatusFilter>('all');
  const classId = ref<number | null>(null);
  const split = ref<ImageQuery['split'] | null>(null);
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
    sort: sort.value,
  }));

  async function reload() {
    loading.value = true;
    try {
      const [list, c] = await Promise.all([api()['images.list']({ ...query.value, limit: 10_000 }), api()['images.counts']({})]);
      items.value = list.items;
      total.value = list.total;
      counts.value = c;
    } finally {
      loading.value = false;
    }
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

  return { status, classId, split, sort, items, total, counts, currentId, loading, query, reload, index, current, neighbour };
});
