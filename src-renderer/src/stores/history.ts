// Undo/redo as changesets. Every edit is applied locally at once, then persisted through
// annotations.apply as one transaction, strictly in order. History is global (not per image), so undo
// works after switching images: an entry for another image is persisted without touching the open one.
import type { Changeset } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import { invert, isEmpty } from '../editor/changeset';
import { api } from '../transport/current';
import { useAnnotationsStore } from './annotations';
import { useClassesStore } from './classes';
import { useStatusStore } from './status';
import { useTagsStore } from './tags';

export interface HistoryEntry {
  label: string;
  forward: Changeset;
  inverse: Changeset;
}

const LIMIT = 500;

export const useHistoryStore = defineStore('history', () => {
  const undoStack = shallowRef<HistoryEntry[]>([]);
  const redoStack = shallowRef<HistoryEntry[]>([]);
  let queue: Promise<unknown> = Promise.resolve();

  const canUndo = computed(() => undoStack.value.length > 0);
  const canRedo = computed(() => redoStack.value.length > 0);

  function local(cs: Changeset) {
    useAnnotationsStore().applyLocal(cs);
    useClassesStore().applyLocal(cs);
    useTagsStore().applyLocal(cs);
  }

  /** Persists in order; on failure the open image and classes are re-read so the screen shows the truth. */
  function persist(cs: Changeset): Promise<void> {
    const status = useStatusStore();
    const run = () =>
      status.track(() => api()['annotations.apply']({ changeset: cs })).then(
        () => undefined,
        async (err) => {
          status.error(`Not saved: ${err instanceof Error ? err.message : String(err)}`);
          const ann = useAnnotationsStore();
          if (ann.image) await ann.load(ann.image.id).catch(() => undefined);
          await useClassesStore().reload().catch(() => undefined);
          throw err;
        },
      );
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  }

  /** A new edit: apply, persist, remember. Returns once saved (callers rarely wait). */
  function commit(cs: Changeset): Promise<void> {
    if (isEmpty(cs)) return Promise.resolve();
    let inverse: Changeset;
    try {
      inverse = invert(cs); // before the local apply: an edit that cannot be recorded is not shown either
    } catch (err) {
      useStatusStore().saveError = `Not saved: ${err instanceof Error ? err.message : String(err)}`;
      useStatusStore().error(useStatusStore().saveError);
      return Promise.resolve();
    }
    local(cs);
    undoStack.value = [...undoStack.value.slice(-(LIMIT - 1)), { label: cs.label ?? 'edit', forward: cs, inverse }];
    redoStack.value = [];
    return persist(cs).catch(() => {
      undoStack.value = undoStack.value.filter((e) => e.forward !== cs);
    });
  }

  /** An edit the core already applied (class delete/merge): only remember how to undo it. */
  function record(label: string, inverse: Changeset) {
    local(invert(inverse));
    undoStack.value = [...undoStack.value.slice(-(LIMIT - 1)), { label, forward: invert(inverse), inverse }];
    redoStack.value = [];
  }

  async function undo(): Promise<HistoryEntry | null> {
    const e = undoStack.value.at(-1);
    if (!e) return null;
    undoStack.value = undoStack.value.slice(0, -1);
    local(e.inverse);
    redoStack.value = [...redoStack.value, e];
    await persist(e.inverse).catch(() => (redoStack.value = redoStack.value.filter((r) => r !== e)));
    return e;
  }

  async function redo(): Promise<HistoryEntry | null> {
    const e = redoStack.value.at(-1);
    if (!e) return null;
    redoStack.value = redoStack.value.slice(0, -1);
    local(e.forward);
    undoStack.value = [...undoStack.value, e];
    await persist(e.forward).catch(() => (undoStack.value = undoStack.value.filter((u) => u !== e)));
    return e;
  }

  /** Resolves when every queued write has been committed (tests, and leaving the project). */
  const settled = () => queue;

  function clear() {
    undoStack.value = [];
    redoStack.value = [];
  }

  return { undoStack, redoStack, canUndo, canRedo, commit, record, undo, redo, settled, clear };
});
