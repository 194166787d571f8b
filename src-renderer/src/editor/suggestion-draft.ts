// Edit-then-accept: a suggestion being edited is shown to the canvas tools as one extra, selected annotation
// with a reserved id, so the ordinary handles (resize a box, drag polygon vertices, move a shape) work on it.
// Their commits for that id are routed here instead of to the project; Accept then creates the edited shape
// as a human annotation in ONE changeset.
import type { PredictionInfo } from '@contract/api';
import type { Annotation, Changeset, Geometry } from '@contract/schemas';

const PREFIX = 'suggestion-draft:';

export interface SuggestionDraft {
  prediction: PredictionInfo;
  geometry: Geometry;
  /** true once any handle moved it */
  edited: boolean;
}

export const draftId = (predictionId: number): string => `${PREFIX}${predictionId}`;
export const isDraftId = (id: string): boolean => id.startsWith(PREFIX);

/** The draft as the tools see it: a human annotation of the suggestion's class, not yet in the project. */
export function draftAnnotation(d: SuggestionDraft): Annotation {
  const p = d.prediction;
  return { id: draftId(p.id), imageId: p.imageId, classId: p.classId, geometry: d.geometry, source: 'human', score: null, modelVersion: p.modelVersion, createdAt: 0, updatedAt: 0 };
}

/**
 * Splits a tool's changeset: the draft's new geometry (if the changeset edits it) and what is left for the
 * project (null when nothing is). Deleting the draft means dropping the edit.
 */
export function routeDraftCommit(cs: Changeset): { geometry: Geometry | null; dropped: boolean; rest: Changeset | null } {
  let geometry: Geometry | null = null;
  for (const u of cs.updated) if (isDraftId(u.after.id)) geometry = u.after.geometry;
  const dropped = cs.deleted.some((a) => isDraftId(a.id));
  const rest: Changeset = {
    ...cs,
    created: cs.created.filter((a) => !isDraftId(a.id)),
    updated: cs.updated.filter((u) => !isDraftId(u.after.id)),
    deleted: cs.deleted.filter((a) => !isDraftId(a.id)),
  };
  const c = rest.classes;
  const empty = rest.created.length + rest.updated.length + rest.deleted.length === 0 && !(c && c.created.length + c.updated.length + c.deleted.length > 0);
  return { geometry, dropped, rest: empty ? null : rest };
}

/** Point-in-shape for moving the draft by dragging its inside (boxes and polygons by geometry, masks by bbox). */
export function hitsDraft(g: Geometry, p: { x: number; y: number }, bbox: (g: Geometry) => { x: number; y: number; w: number; h: number }): boolean {
  if (g.kind === 'polygon') {
    let inside = false;
    for (const r of g.rings) {
      for (let i = 0, j = r.length / 2 - 1; i < r.length / 2; j = i++) {
        const xi = r[2 * i], yi = r[2 * i + 1], xj = r[2 * j], yj = r[2 * j + 1];
        if (yi > p.y !== yj > p.y && p.x < ((xj - xi) * (p.y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  }
  const b = bbox(g);
  return p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h;
}

/** Draws the draft (its preview geometry while a handle is dragged): a thicker dashed outline, so it reads as
 *  "a suggestion being edited", not as a label yet. */
export function drawDraft(c: CanvasRenderingContext2D, g: Geometry, vp: { scale: number; tx: number; ty: number }, color: string, bbox: (g: Geometry) => { x: number; y: number; w: number; h: number }): void {
  c.save();
  c.setLineDash([8, 4]);
  c.lineWidth = 3;
  c.strokeStyle = color;
  c.fillStyle = color + '22';
  c.beginPath();
  if (g.kind === 'polygon') {
    for (const r of g.rings) {
      for (let i = 0; i < r.length; i += 2) {
        const x = r[i] * vp.scale + vp.tx, y = r[i + 1] * vp.scale + vp.ty;
        if (i === 0) c.moveTo(x, y);
        else c.lineTo(x, y);
      }
      c.closePath();
    }
  } else {
    const b = bbox(g);
    c.rect(b.x * vp.scale + vp.tx, b.y * vp.scale + vp.ty, b.w * vp.scale, b.h * vp.scale);
  }
  c.fill();
  c.stroke();
  c.restore();
}
