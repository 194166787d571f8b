// Model versions for the Models screen: list, set active, delete, compare two side by side, export.
import type { MethodOutput, ModelInfo } from '@contract/api';
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../transport/current';

export type Comparison = MethodOutput<'models.compare'>;

export const useModelsStore = defineStore('models', () => {
  const items = ref<ModelInfo[]>([]);
  const comparison = ref<Comparison | null>(null);
  const loading = ref(false);

  async function reload() {
    loading.value = true;
    try {
      items.value = (await api()['models.list']({})).items;
    } finally {
      loading.value = false;
    }
  }

  async function setActive(id: number) {
    await api()['models.setActive']({ id });
    await reload();
  }

  async function remove(id: number) {
    await api()['models.delete']({ id });
    if (comparison.value && (comparison.value.a.id === id || comparison.value.b.id === id)) comparison.value = null;
    await reload();
  }

  async function compare(a: number, b: number) {
    comparison.value = await api()['models.compare']({ a, b });
  }

  const active = () => items.value.find((m) => m.active) ?? null;

  return { items, comparison, loading, reload, setActive, remove, compare, active };
});
