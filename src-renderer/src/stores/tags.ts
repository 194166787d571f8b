// Image-level tags: the project's tag list (for suggestions and the gallery filter) and adding/removing a tag
// on an image as an undoable changeset.
import type { Changeset } from '@contract/schemas';
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { applyToTags } from '../editor/changeset';
import { api } from '../transport/current';
import { useAnnotationsStore } from './annotations';
import { useHistoryStore } from './history';
import { useImagesStore } from './images';

export const useTagsStore = defineStore('tags', () => {
  /** every tag in use, most used first */
  const all = ref<{ tag: string; count: number }[]>([]);

  async function reload() {
    all.value = (await api()['tags.list']({})).tags;
  }

  /** Mirrors a changeset's tags in the open image, the gallery's records and the counts (before the server answers). */
  function applyLocal(cs: Changeset) {
    if (!cs.tags || (!cs.tags.added.length && !cs.tags.removed.length)) return;
    const ids = new Set([...cs.tags.added, ...cs.tags.removed].map((t) => t.imageId));
    const ann = useAnnotationsStore();
    if (ann.image && ids.has(ann.image.id)) ann.image = withTags(ann.image, applyToTags(ann.image.tags, cs, ann.image.id));
    const images = useImagesStore();
    if (images.items.some((i) => ids.has(i.id))) images.items = images.items.map((i) => (ids.has(i.id) ? withTags(i, applyToTags(i.tags, cs, i.id)) : i));
    const counts = new Map(all.value.map((t) => [t.tag, t.count]));
    for (const t of cs.tags.removed) counts.set(t.tag, (counts.get(t.tag) ?? 1) - 1);
    for (const t of cs.tags.added) counts.set(t.tag, (counts.get(t.tag) ?? 0) + 1);
    all.value = [...counts].filter(([, n]) => n > 0).map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || (a.tag < b.tag ? -1 : 1));
  }

  function add(imageId: number, tag: string, has: readonly string[] = []): Promise<void> {
    const t = tag.trim();
    if (!t || has.includes(t)) return Promise.resolve();
    return useHistoryStore().commit({ created: [], updated: [], deleted: [], tags: { added: [{ imageId, tag: t }], removed: [] }, label: `tag ${t}` });
  }

  function remove(imageId: number, tag: string): Promise<void> {
    return useHistoryStore().commit({ created: [], updated: [], deleted: [], tags: { added: [], removed: [{ imageId, tag }] }, label: `untag ${tag}` });
  }

  return { all, reload, applyLocal, add, remove };
});

function withTags<T extends { tags?: string[] }>(rec: T, tags: string[]): T {
  const { tags: _old, ...rest } = rec;
  return (tags.length ? { ...rest, tags } : rest) as T;
}
