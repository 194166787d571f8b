// Changesets on the client: building them from edits, inverting them for undo, applying them to the
// in-memory annotation list. The store computes the authoritative inverse too; both must agree.
import type { Annotation, Changeset, LabelClass } from '@contract/schemas';
import { toPlainData } from '../transport/plain-data';

export function emptyChangeset(label?: string): Changeset {
  return { created: [], updated: [], deleted: [], label };
}

export function invert(cs: Changeset): Changeset {
  const out: Changeset = {
    created: cs.deleted.map(clone),
    deleted: cs.created.map(clone),
    updated: cs.updated.map((u) => ({ before: clone(u.after), after: clone(u.before) })),
    label: cs.label,
  };
  if (cs.classes)
    out.classes = {
      created: cs.classes.deleted.map(clone),
      deleted: cs.classes.created.map(clone),
      updated: cs.classes.updated.map((u) => ({ before: clone(u.after), after: clone(u.before) })),
    };
  if (cs.tags) out.tags = { added: cs.tags.removed.map(clone), removed: cs.tags.added.map(clone) };
  return out;
}

export function isEmpty(cs: Changeset): boolean {
  const c = cs.classes;
  const t = cs.tags;
  return !cs.created.length && !cs.updated.length && !cs.deleted.length && (!c || (!c.created.length && !c.updated.length && !c.deleted.length)) &&
    (!t || (!t.added.length && !t.removed.length));
}

/** Applies the annotation part of a changeset to one image's list (others' annotations are ignored). */
export function applyToList(list: readonly Annotation[], cs: Changeset, imageId: number): Annotation[] {
  const gone = new Set(cs.deleted.map((a) => a.id));
  const updated = new Map(cs.updated.filter((u) => u.after.imageId === imageId).map((u) => [u.after.id, u.after]));
  const movedAway = new Set(cs.updated.filter((u) => u.after.imageId !== imageId).map((u) => u.after.id));
  const out = list.filter((a) => !gone.has(a.id) && !movedAway.has(a.id)).map((a) => updated.get(a.id) ?? a);
  for (const a of cs.created) if (a.imageId === imageId && !out.some((o) => o.id === a.id)) out.push(a);
  return sortByCreation(out);
}

/** An image's tags after a changeset's tag part (sorted, as the store lists them). */
export function applyToTags(tags: readonly string[] | undefined, cs: Changeset, imageId: number): string[] {
  const out = new Set(tags ?? []);
  for (const t of cs.tags?.removed ?? []) if (t.imageId === imageId) out.delete(t.tag);
  for (const t of cs.tags?.added ?? []) if (t.imageId === imageId) out.add(t.tag);
  return [...out].sort();
}

/** Drawing order = creation order, so a shape recreated by undo returns to its old place in the stack. */
export function sortByCreation(list: Annotation[]): Annotation[] {
  return list.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function applyToClasses(list: readonly LabelClass[], cs: Changeset): LabelClass[] {
  if (!cs.classes) return [...list];
  const gone = new Set(cs.classes.deleted.map((c) => c.id));
  const updated = new Map(cs.classes.updated.map((u) => [u.after.id, u.after]));
  const out = list.filter((c) => !gone.has(c.id)).map((c) => updated.get(c.id) ?? c);
  for (const c of cs.classes.created) if (!out.some((o) => o.id === c.id)) out.push(c);
  return out.sort((a, b) => a.order - b.order || a.id - b.id);
}

/** Image ids a changeset touches (to know whether the open image must refresh). */
export function touchedImages(cs: Changeset): Set<number> {
  const s = new Set<number>();
  for (const a of cs.created) s.add(a.imageId);
  for (const a of cs.deleted) s.add(a.imageId);
  for (const u of cs.updated) {
    s.add(u.before.imageId);
    s.add(u.after.imageId);
  }
  for (const t of [...(cs.tags?.added ?? []), ...(cs.tags?.removed ?? [])]) s.add(t.imageId);
  return s;
}

/** A deep plain copy: the records may be Vue proxies (the classes list), which structuredClone refuses. */
function clone<T>(v: T): T {
  return toPlainData(v, 'changeset') as T;
}

export function newId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // Non-secure origins (a remote http:// server) lack randomUUID; getRandomValues is always there.
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
