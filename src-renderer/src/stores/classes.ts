// Label classes with per-class counts and the active class for new shapes.
import type { Changeset, LabelClass } from '@contract/schemas';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { applyToClasses } from '../editor/changeset';
import { api } from '../transport/current';

/** Distinct, readable on a dark canvas; new classes cycle through them. */
export const PALETTE = ['#4f9dff', '#ff8a3d', '#3ddc84', '#f25c8a', '#b38cff', '#ffd43b', '#2ed3c6', '#ff6b6b', '#9bd14b', '#e8a0ff'];

export const useClassesStore = defineStore('classes', () => {
  const classes = ref<LabelClass[]>([]);
  const counts = ref<Record<string, number>>({});
  const activeId = ref<number | null>(null);

  const byId = computed(() => new Map(classes.value.map((c) => [c.id, c])));
  const active = computed(() => (activeId.value ? byId.value.get(activeId.value) ?? null : null));
  const colorOf = (id: number) => byId.value.get(id)?.color ?? '#9aa0a6';

  async function reload() {
    const r = await api()['classes.list']({});
    classes.value = r.classes;
    counts.value = r.counts;
    if (!activeId.value || !byId.value.has(activeId.value)) activeId.value = classes.value[0]?.id ?? null;
  }

  function applyLocal(cs: Changeset) {
    if (cs.classes) classes.value = applyToClasses(classes.value, cs);
    const next = { ...counts.value };
    const bump = (id: number, d: number) => (next[id] = Math.max(0, (next[id] ?? 0) + d));
    for (const a of cs.created) bump(a.classId, 1);
    for (const a of cs.deleted) bump(a.classId, -1);
    for (const u of cs.updated) if (u.before.classId !== u.after.classId) (bump(u.before.classId, -1), bump(u.after.classId, 1));
    counts.value = next;
    if (activeId.value && !byId.value.has(activeId.value)) activeId.value = classes.value[0]?.id ?? null;
    if (!activeId.value) activeId.value = classes.value[0]?.id ?? null;
  }

  /** Class in slot n (1-based) of the ordered list: what digit keys pick. */
  const slot = (n: number): LabelClass | null => classes.value[n - 1] ?? null;

  function nextColor(): string {
    const used = new Set(classes.value.map((c) => c.color.toLowerCase()));
    return PALETTE.find((c) => !used.has(c)) ?? PALETTE[classes.value.length % PALETTE.length];
  }

  /** A new class record (ids are chosen client-side so undo can recreate the same class). */
  function draft(name: string): LabelClass {
    const id = Math.max(0, ...classes.value.map((c) => c.id)) + 1;
    const order = Math.max(-1, ...classes.value.map((c) => c.order)) + 1;
    return { id, name, color: nextColor(), hotkey: null, order };
  }

  return { classes, counts, activeId, byId, active, colorOf, reload, applyLocal, slot, draft };
});
