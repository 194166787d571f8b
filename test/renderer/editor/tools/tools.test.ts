import type { Annotation, Changeset, Geometry } from '../../../../src-main/contract/schemas';
import { area, toBbox } from '../../../../src-main/core/geometry/rle';
import { describe, expect, it } from 'vitest';
import { applyToList } from '../../../../src-renderer/src/editor/changeset';
import { AnnotationIndex } from '../../../../src-renderer/src/editor/annotation-index';
import { BoxTool } from '../../../../src-renderer/src/editor/tools/box-tool';
import { BrushTool } from '../../../../src-renderer/src/editor/tools/brush-tool';
import { EditHandles } from '../../../../src-renderer/src/editor/tools/edit-handles';
import { PolygonTool } from '../../../../src-renderer/src/editor/tools/polygon-tool';
import { SelectTool } from '../../../../src-renderer/src/editor/tools/select-tool';
import type { ToolHost, ToolPointer } from '../../../../src-renderer/src/editor/tools/tool';

/** A host at scale 1 (screen = image coords) holding annotations in a plain array. */
function fakeHost(w = 200, h = 100) {
  let list: Annotation[] = [];
  let selected: string[] = [];
  const commits: Changeset[] = [];
  const previews = new Map<string, Geometry>();
  const host: ToolHost = {
    imageId: 1,
    width: w,
    height: h,
    viewport: () => ({ scale: 1, tx: 0, ty: 0 }),
    annotations: () => list,
    selectedIds: () => selected,
    select: (ids) => (selected = ids),
    classIdForNew: () => 7,
    colorOf: () => '#ffffff',
    commit: (cs) => {
      commits.push(cs);
      list = applyToList(list, cs, 1);
    },
    hitTest: (p) => new AnnotationIndex(w, h, list).hit(p, 1),
    setPreview: (id, g) => (g ? previews.set(id, g) : previews.delete(id)),
    brushRadius: () => 3,
    invalidate: () => undefined,
    notify: () => undefined,
  };
  return { host, commits, previews, list: () => list, selected: () => selected };
}
const pt = (x: number, y: number, mods: Partial<ToolPointer> = {}): ToolPointer => ({ image: { x, y }, screen: { x, y }, shift: false, ctrl: false, alt: false, ...mods });

describe('box tool', () => {
  it('draws by dragging', () => {
    const f = fakeHost();
    const t = new BoxTool(f.host, new EditHandles(f.host));
    t.down(pt(10, 10));
    t.move(pt(40, 30));
    t.up(pt(50, 40));
    expect(f.commits).toHaveLength(1);
    expect(f.list()[0].geometry).toEqual({ kind: 'box', x: 10, y: 10, w: 40, h: 30 });
    expect(f.list()[0].classId).toBe(7);
    expect(f.selected()).toEqual([f.list()[0].id]);
  });

  it('draws by click, click and clamps to the image', () => {
    const f = fakeHost();
    const t = new BoxTool(f.host, new EditHandles(f.host));
    t.down(pt(150, 50));
    t.up(pt(151, 50));
    expect(f.commits).toHaveLength(0);
    t.move(pt(300, 90));
    t.down(pt(300, 90));
    t.up(pt(300, 90));
    expect(f.list()[0].geometry).toEqual({ kind: 'box', x: 150, y: 50, w: 50, h: 40 });
  });

  it('resizes the selected box by its handle and moves it via the select tool', () => {
    const f = fakeHost();
    const edit = new EditHandles(f.host);
    const t = new BoxTool(f.host, edit);
    t.down(pt(10, 10));
    t.up(pt(50, 40));
    t.down(pt(50, 40)); // south-east handle
    t.move(pt(70, 60));
    t.up(pt(70, 60));
    expect(f.list()[0].geometry).toEqual({ kind: 'box', x: 10, y: 10, w: 60, h: 50 });
    expect(f.commits.at(-1)!.updated).toHaveLength(1);
    const s = new SelectTool(f.host, edit);
    s.down(pt(30, 30));
    s.move(pt(35, 32));
    s.up(pt(35, 32));
    expect(f.list()[0].geometry).toEqual({ kind: 'box', x: 15, y: 12, w: 60, h: 50 });
  });
});

describe('polygon tool', () => {
  it('closes on the first point and on Enter; Backspace removes the last point', () => {
    const f = fakeHost();
    const t = new PolygonTool(f.host, new EditHandles(f.host));
    for (const [x, y] of [[10, 10], [60, 10], [99, 99], [60, 50]]) t.down(pt(x, y));
    expect(t.action('edit.deleteVertex')).toBe(true); // drops (60,50)
    t.down(pt(11, 11)); // near the first point: closes
    expect(f.list()[0].geometry).toEqual({ kind: 'polygon', rings: [[10, 10, 60, 10, 99, 99]] });
    for (const [x, y] of [[100, 10], [150, 10], [150, 60]]) t.down(pt(x, y));
    t.action('edit.finish');
    expect(f.list()).toHaveLength(2);
  });

  it('edits vertices of the selected polygon: drag, insert at an edge midpoint, delete', () => {
    const f = fakeHost();
    const edit = new EditHandles(f.host);
    const t = new PolygonTool(f.host, edit);
    for (const [x, y] of [[10, 10], [50, 10], [50, 50], [10, 50]]) t.down(pt(x, y));
    t.action('edit.finish');
    t.down(pt(50, 50)); // vertex drag
    t.move(pt(60, 70));
    t.up(pt(60, 70));
    expect((f.list()[0].geometry as { rings: number[][] }).rings[0]).toEqual([10, 10, 50, 10, 60, 70, 10, 50]);
    t.down(pt(30, 10)); // midpoint of the first edge: inserts a vertex
    t.move(pt(30, 0));
    t.up(pt(30, 0));
    expect((f.list()[0].geometry as { rings: number[][] }).rings[0]).toEqual([10, 10, 30, 0, 50, 10, 60, 70, 10, 50]);
    expect(t.action('edit.deleteVertex')).toBe(true); // the inserted vertex is the active one
    expect((f.list()[0].geometry as { rings: number[][] }).rings[0]).toEqual([10, 10, 50, 10, 60, 70, 10, 50]);
  });
});

describe('brush and eraser', () => {
  it('paints a new mask, adds to the selected mask, and erases from it', () => {
    const f = fakeHost();
    const brush = new BrushTool(f.host, false);
    brush.down(pt(20, 20));
    brush.move(pt(40, 20));
    brush.up();
    const m = f.list()[0];
    expect(m.geometry.kind).toBe('mask');
    const a1 = area((m.geometry as { rle: { size: [number, number]; counts: string } }).rle);
    expect(a1).toBeGreaterThan(20 * 5);
    brush.down(pt(20, 60)); // selected mask: the stroke adds to it
    brush.up();
    expect(f.list()).toHaveLength(1);
    const a2 = area((f.list()[0].geometry as { rle: { size: [number, number]; counts: string } }).rle);
    expect(a2).toBeGreaterThan(a1);
    const eraser = new BrushTool(f.host, true);
    eraser.down(pt(20, 60));
    eraser.up();
    expect(area((f.list()[0].geometry as { rle: { size: [number, number]; counts: string } }).rle)).toBe(a1);
    expect(f.commits).toHaveLength(3);
  });
});

describe('moving a mask with the select tool', () => {
  function withMask() {
    const f = fakeHost();
    const brush = new BrushTool(f.host, false);
    brush.down(pt(30, 30));
    brush.up();
    f.host.select([]);
    return f;
  }
  const rleOf = (a: Annotation) => (a.geometry as Extract<Geometry, { kind: 'mask' }>).rle;

  it('drags it like a box, as one undoable changeset', () => {
    const f = withMask();
    const before = f.list()[0];
    const t = new SelectTool(f.host, new EditHandles(f.host));
    t.down(pt(30, 30)); // on the mask: selects it and starts a move
    expect(f.selected()).toEqual([before.id]);
    t.move(pt(40, 35));
    expect(f.previews.get(before.id)?.kind).toBe('mask'); // shown moved while dragging
    t.move(pt(50.4, 40.2));
    t.up(pt(50.4, 40.2));
    expect(f.previews.size).toBe(0);
    expect(f.commits).toHaveLength(2); // the brush stroke, then one move
    const cs = f.commits[1];
    expect(cs.created).toEqual([]);
    expect(cs.deleted).toEqual([]);
    expect(cs.updated).toHaveLength(1);
    expect(cs.updated[0].before).toEqual(before);
    const after = f.list()[0];
    const [bx, by, bw, bh] = toBbox(rleOf(before));
    expect(toBbox(rleOf(after))).toEqual([bx + 20, by + 10, bw, bh]);
    expect(area(rleOf(after))).toBe(area(rleOf(before)));
    // undo = applying the inverse restores the original RLE exactly
    const undone = applyToList(f.list(), { created: [], deleted: [], updated: [{ before: cs.updated[0].after, after: cs.updated[0].before }] }, 1);
    expect(rleOf(undone[0])).toEqual(rleOf(before));
  });

  it('commits nothing for a drag under a pixel, and refuses to move it off the image', () => {
    const f = withMask();
    const notes: string[] = [];
    f.host.notify = (t) => notes.push(t);
    const t = new SelectTool(f.host, new EditHandles(f.host));
    t.down(pt(30, 30));
    t.move(pt(30.3, 30.2));
    t.up(pt(30.3, 30.2));
    expect(f.commits).toHaveLength(1);
    t.down(pt(30, 30));
    t.move(pt(500, 30));
    t.up(pt(500, 30));
    expect(f.commits).toHaveLength(1);
    expect(notes.join()).toMatch(/leave the image/);
  });
});

