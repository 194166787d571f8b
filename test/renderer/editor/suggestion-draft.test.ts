// Edit-then-accept: the canvas's ordinary handles edit a suggestion through the draft annotation; their
// commits for it never reach the project, and other edits pass through untouched.
import type { PredictionInfo } from '../../../src-main/contract/api';
import type { Annotation, Changeset, Geometry } from '../../../src-main/contract/schemas';
import { describe, expect, it } from 'vitest';
import { geometryBounds } from '../../../src-renderer/src/editor/geometry';
import { draftAnnotation, draftId, hitsDraft, isDraftId, routeDraftCommit, type SuggestionDraft } from '../../../src-renderer/src/editor/suggestion-draft';
import { EditHandles } from '../../../src-renderer/src/editor/tools/edit-handles';
import { SelectTool } from '../../../src-renderer/src/editor/tools/select-tool';
import type { ToolHost, ToolPointer } from '../../../src-renderer/src/editor/tools/tool';

const pred = (geometry: Geometry): PredictionInfo => ({ id: 42, imageId: 1, modelVersion: 3, classId: 2, score: 0.8, geometry });
const pt = (x: number, y: number): ToolPointer => ({ image: { x, y }, screen: { x, y }, shift: false, ctrl: false, alt: false });
const real: Annotation = { id: 'a1', imageId: 1, classId: 1, geometry: { kind: 'box', x: 150, y: 50, w: 20, h: 20 }, source: 'human', score: null, modelVersion: null, createdAt: 1, updatedAt: 1 };

/** A host wired the way EditorCanvas wires it while a suggestion is being edited. */
function draftHost(start: Geometry) {
  let draft: SuggestionDraft | null = { prediction: pred(start), geometry: start, edited: false };
  const toProject: Changeset[] = [];
  const host: ToolHost = {
    imageId: 1, width: 200, height: 100,
    viewport: () => ({ scale: 1, tx: 0, ty: 0 }),
    annotations: () => (draft ? [real, draftAnnotation(draft)] : [real]),
    selectedIds: () => (draft ? [draftId(42)] : []),
    select: () => undefined,
    classIdForNew: () => 1,
    colorOf: () => '#fff',
    commit: (cs) => {
      const r = routeDraftCommit(cs);
      if (r.geometry && draft) draft = { ...draft, geometry: r.geometry, edited: true };
      if (r.dropped) draft = null;
      if (r.rest) toProject.push(r.rest);
    },
    hitTest: (p) => (draft && hitsDraft(draft.geometry, p, geometryBounds) ? draftAnnotation(draft) : null),
    setPreview: () => undefined,
    brushRadius: () => 3,
    invalidate: () => undefined,
    notify: () => undefined,
  };
  return { host, toProject, draft: () => draft };
}

describe('suggestion draft', () => {
  it('resizes a suggested box by its corner handle and moves it by its inside, without touching the project', () => {
    const f = draftHost({ kind: 'box', x: 10, y: 10, w: 40, h: 30 });
    const t = new SelectTool(f.host, new EditHandles(f.host));
    t.down(pt(50, 40)); // bottom-right handle
    t.move(pt(70, 50));
    t.up(pt(70, 50));
    expect(f.draft()!.geometry).toEqual({ kind: 'box', x: 10, y: 10, w: 60, h: 40 });
    t.down(pt(30, 30)); // inside: move
    t.move(pt(35, 32));
    t.up(pt(35, 32));
    expect(f.draft()!.geometry).toEqual({ kind: 'box', x: 15, y: 12, w: 60, h: 40 });
    expect(f.draft()!.edited).toBe(true);
    expect(f.toProject).toEqual([]);
  });

  it('drags a suggested polygon point', () => {
    const f = draftHost({ kind: 'polygon', rings: [[10, 10, 60, 10, 60, 50, 10, 50]] });
    const t = new SelectTool(f.host, new EditHandles(f.host));
    t.down(pt(60, 50));
    t.move(pt(80, 70));
    t.up(pt(80, 70));
    expect(f.draft()!.geometry).toEqual({ kind: 'polygon', rings: [[10, 10, 60, 10, 80, 70, 10, 50]] });
    expect(f.toProject).toEqual([]);
  });

  it('routes only the draft out of a mixed changeset; deleting the draft drops the edit', () => {
    const d = draftAnnotation({ prediction: pred({ kind: 'box', x: 0, y: 0, w: 5, h: 5 }), geometry: { kind: 'box', x: 1, y: 1, w: 5, h: 5 }, edited: true });
    expect(isDraftId(d.id)).toBe(true);
    expect(isDraftId(real.id)).toBe(false);
    const moved = { ...real, geometry: { kind: 'box' as const, x: 0, y: 0, w: 9, h: 9 } };
    const r = routeDraftCommit({ created: [], deleted: [], updated: [{ before: d, after: { ...d, geometry: { kind: 'box', x: 2, y: 2, w: 5, h: 5 } } }, { before: real, after: moved }], label: 'move' });
    expect(r.geometry).toEqual({ kind: 'box', x: 2, y: 2, w: 5, h: 5 });
    expect(r.rest).toEqual({ created: [], deleted: [], updated: [{ before: real, after: moved }], label: 'move' });
    const only = routeDraftCommit({ created: [], updated: [], deleted: [d] });
    expect(only).toEqual({ geometry: null, dropped: true, rest: null });
  });

  it('hit-tests polygons by their outline, not their bounding box', () => {
    const tri: Geometry = { kind: 'polygon', rings: [[0, 0, 100, 0, 0, 100]] };
    expect(hitsDraft(tri, { x: 10, y: 10 }, geometryBounds)).toBe(true);
    expect(hitsDraft(tri, { x: 90, y: 90 }, geometryBounds)).toBe(false);
  });
});
