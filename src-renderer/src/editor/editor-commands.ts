// Editing commands that are not tied to a pointer: delete, duplicate, copy/paste, copy from the previous
// image, class assignment. Each produces one changeset (one undo step).
import type { Annotation, Changeset, Geometry } from '@contract/schemas';
import { newId } from './changeset';
import { translate } from './geometry';

const OFFSET = 10;

export function deleteSet(sel: readonly Annotation[]): Changeset {
  return { created: [], updated: [], deleted: [...sel], label: sel.length === 1 ? 'delete shape' : `delete ${sel.length} shapes` };
}

/** Copies onto image `imageId` (w×h); masks only fit an image of the same size and are dropped otherwise. */
export function cloneOnto(src: readonly Annotation[], imageId: number, w: number, h: number, offset: number, label: string): { cs: Changeset; dropped: number } {
  const now = Date.now();
  let dropped = 0;
  const created: Annotation[] = [];
  for (const a of src) {
    let g: Geometry = a.geometry;
    if (g.kind === 'mask') {
      if (g.rle.size[0] !== h || g.rle.size[1] !== w) {
        dropped++;
        continue;
      }
    } else if (offset) g = translate(g, offset, offset);
    created.push({ ...a, id: newId(), imageId, geometry: g, source: 'human', score: null, modelVersion: null, createdAt: now, updatedAt: now });
  }
  return { cs: { created, updated: [], deleted: [], label }, dropped };
}

export const duplicate = (sel: readonly Annotation[], imageId: number, w: number, h: number) =>
  cloneOnto(sel, imageId, w, h, OFFSET, sel.length === 1 ? 'duplicate shape' : `duplicate ${sel.length} shapes`);

export function assignClass(sel: readonly Annotation[], classId: number): Changeset {
  const now = Date.now();
  return {
    created: [],
    deleted: [],
    updated: sel.filter((a) => a.classId !== classId).map((a) => ({ before: a, after: { ...a, classId, updatedAt: now } })),
    label: 'change class',
  };
}

/**
 * Backspace: the tool's own use first (the polygon being drawn, the active vertex); otherwise it deletes the
 * selection like Delete does, as users of every other editor expect (issue 18).
 */
export function backspaceFallback(toolHandled: boolean, sel: readonly Annotation[]): Changeset | null {
  return toolHandled || !sel.length ? null : deleteSet(sel);
}

/** What the status line says after a digit key re-classed the selection, so the change is never silent. */
export function classChangeNote(cs: Changeset, className: string): string | null {
  const n = cs.updated.length;
  return n ? `${n} shape${n === 1 ? '' : 's'} changed to ${className} (Ctrl+Z undoes)` : null;
}

/**
 * The rows of the shape list: all shapes up to `cap`, selected ones first; the list grows by "Show more"
 * (issue 18: it stopped at 200 with no way to reach the rest from the list).
 */
export function listedShapes(list: readonly Annotation[], selected: readonly string[], cap: number): { rows: readonly Annotation[]; more: number } {
  if (list.length <= cap) return { rows: list, more: 0 };
  const sel = new Set(selected);
  const rows = [...list.filter((a) => sel.has(a.id)), ...list.filter((a) => !sel.has(a.id))].slice(0, cap);
  return { rows, more: list.length - rows.length };
}
