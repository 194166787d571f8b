import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Annotation, LabelClass } from '../../../src-main/contract/schemas';
import { ChangesetError, ConflictError } from '../../../src-main/core/store/errors';
import type { SqliteProjectStore } from '../../../src-main/core/store/project';
import { compress } from '../../../src-main/core/geometry/rle';
import { box, projectWithImages, tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
let store: SqliteProjectStore;
let imgs: number[];
const cat: LabelClass = { id: 1, name: 'cat', color: '#ff0000', hotkey: '1', order: 0 };
const dog: LabelClass = { id: 2, name: 'dog', color: '#00ff00', hotkey: null, order: 1 };

beforeEach(() => {
  t = tempDir();
  ({ store, imageIds: imgs } = projectWithImages(t.dir, 3));
  store.apply({ classes: { created: [cat, dog], updated: [], deleted: [] }, label: 'classes' });
});
afterEach(() => {
  store.close();
  t.cleanup();
});

const snapshot = () => ({
  anns: imgs.map((id) => store.annotationsOf(id)),
  classes: store.listClasses(),
  status: imgs.map((id) => store.getImage(id)!.status),
});

describe('changesets', () => {
  it('applies creates, returns the exact inverse; undo and redo round-trip to identical state', () => {
    const before = snapshot();
    const r0 = store.revision();
    const a = box(imgs[0], 1, 5);
    const b = box(imgs[0], 2, 50, { geometry: { kind: 'polygon', rings: [[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 30.25]] } });
    // a mask is stored only at its image's exact size (640×480 here)
    const m = box(imgs[1], 1, 7, { geometry: { kind: 'mask', rle: compress({ size: [480, 640], counts: [5, 2, 480 * 640 - 7] }) } });
    const r = store.apply({ created: [a, b, m], label: 'draw' });
    expect(r.revision).toBe(r0 + 1);
    expect(store.revision()).toBe(r0 + 1);
    expect(r.inverse).toEqual({ created: [], updated: [], deleted: [a, b, m], label: 'undo draw' });
    expect(store.annotationsOf(imgs[0])).toEqual([a, b]);
    expect(store.annotationsOf(imgs[1])).toEqual([m]);
    expect(store.getImage(imgs[0])!.status).toBe('labeled');
    const after = snapshot();

    const undo = store.apply(r.inverse);
    expect(undo.revision).toBe(r0 + 2);
    expect(snapshot()).toEqual(before);
    const redo = store.apply(undo.inverse);
    expect(redo.revision).toBe(r0 + 3);
    expect(snapshot()).toEqual(after);
  });

  it('updates only when `before` matches the stored record; a stale edit is a conflict and changes nothing', () => {
    const a = box(imgs[0], 1);
    store.apply({ created: [a] });
    const moved: Annotation = { ...a, geometry: { kind: 'box', x: 99, y: 1, w: 2, h: 3 }, updatedAt: a.updatedAt + 1 };
    const r = store.apply({ updated: [{ before: a, after: moved }] });
    expect(store.annotationsOf(imgs[0])).toEqual([moved]);
    expect(r.inverse.updated).toEqual([{ before: moved, after: a }]);

    const rev = store.revision();
    const other = box(imgs[2], 1);
    // `a` is stale now: the whole changeset (including the valid create) must be refused.
    expect(() => store.apply({ created: [other], updated: [{ before: a, after: { ...a, classId: 2 } }] })).toThrow(ConflictError);
    expect(() => store.apply({ updated: [{ before: a, after: a }] })).toThrow(/annotation .* has changed since/);
    expect(store.revision()).toBe(rev);
    expect(store.annotationsOf(imgs[2])).toEqual([]);
    expect(store.annotationsOf(imgs[0])).toEqual([moved]);
    // deleting with a stale copy is a conflict too (the inverse would recreate the wrong thing)
    expect(() => store.apply({ deleted: [a] })).toThrow(ConflictError);
    // undo restores the original; applying the same create twice is refused
    store.apply(r.inverse);
    expect(store.annotationsOf(imgs[0])).toEqual([a]);
    expect(() => store.apply({ created: [a] })).toThrow(/already exists/);
  });

  it('moves an annotation between images and updates both images\' status', () => {
    const a = box(imgs[0], 1);
    store.apply({ created: [a] });
    store.apply({ updated: [{ before: a, after: { ...a, imageId: imgs[1] } }] });
    expect(store.getImage(imgs[0])!.status).toBe('unlabeled');
    expect(store.getImage(imgs[1])!.status).toBe('labeled');
  });

  it('tracks status: labeled with the first human annotation, unlabeled after the last; reviewed stays; model ones do not count', () => {
    const a = box(imgs[0], 1);
    const b = box(imgs[0], 1, 40);
    store.apply({ created: [a, b] });
    store.apply({ deleted: [a] });
    expect(store.getImage(imgs[0])!.status).toBe('labeled');
    store.apply({ deleted: [b] });
    expect(store.getImage(imgs[0])!.status).toBe('unlabeled');

    store.apply({ created: [box(imgs[1], 1, 1, { source: 'model', score: 0.9, modelVersion: 3 })] });
    expect(store.getImage(imgs[1])!.status).toBe('unlabeled');

    const c = box(imgs[2], 1);
    store.apply({ created: [c] });
    store.setStatus([imgs[2]], 'reviewed');
    store.apply({ deleted: [c] });
    expect(store.getImage(imgs[2])!.status).toBe('reviewed');
  });

  it('bumps the revision once per applied changeset, records it, and not for an empty one', () => {
    const r0 = store.revision();
    store.apply({ created: [box(imgs[0], 1)], label: 'one' });
    store.apply({ created: [box(imgs[0], 1), box(imgs[1], 2)], label: 'two' });
    expect(store.apply({}).revision).toBe(r0 + 2);
    expect(store.revision()).toBe(r0 + 2);
    const log = store.db.prepare('SELECT revision, label, created FROM revisions WHERE revision > ? ORDER BY revision').all(r0);
    expect(log).toEqual([{ revision: r0 + 1, label: 'one', created: 1 }, { revision: r0 + 2, label: 'two', created: 2 }]);
  });

  it('refuses to delete a class whose annotations are not deleted too, naming the count', () => {
    store.apply({ created: [box(imgs[0], 1), box(imgs[1], 1), box(imgs[1], 2)] });
    const rev = store.revision();
    expect(() => store.apply({ classes: { created: [], updated: [], deleted: [cat] } })).toThrow(
      "class 'cat' cannot be deleted: 2 annotations still use it and are not deleted in the same changeset");
    expect(store.revision()).toBe(rev);
    expect(store.listClasses().map((c) => c.name)).toEqual(['cat', 'dog']);
  });

  it('deletes a class with its annotations as one undoable step', () => {
    const anns = [box(imgs[0], 1), box(imgs[1], 1), box(imgs[1], 2)];
    store.apply({ created: anns });
    const before = snapshot();
    const r = store.deleteClass(1);
    expect(r.affected).toBe(2);
    expect(store.listClasses()).toEqual([dog]);
    expect(store.classCounts()).toEqual({ 2: 1 });
    expect(store.getImage(imgs[0])!.status).toBe('unlabeled');
    store.apply(r.inverse);
    expect(snapshot()).toEqual(before);
  });

  it('merges one class into another, undoably', () => {
    store.apply({ created: [box(imgs[0], 1), box(imgs[1], 2)] });
    const before = snapshot();
    const r = store.mergeClasses(2, 1);
    expect(r.affected).toBe(1);
    expect(store.classCounts()).toEqual({ 1: 2 });
    expect(store.listClasses()).toEqual([cat]);
    store.apply(r.inverse);
    expect(snapshot()).toEqual(before);
  });

  it('updates and creates classes in the same changeset; names stay unique', () => {
    const r = store.apply({ classes: { created: [{ id: 7, name: 'bird', color: '#0000ff', hotkey: null, order: 2 }], updated: [{ before: dog, after: { ...dog, name: 'puppy' } }], deleted: [] } });
    expect(store.listClasses().map((c) => c.name)).toEqual(['cat', 'puppy', 'bird']);
    expect(() => store.apply({ classes: { created: [{ id: 8, name: 'cat', color: '#0000ff', hotkey: null, order: 3 }], updated: [], deleted: [] } }))
      .toThrow("a class named 'cat' already exists");
    expect(() => store.apply({ classes: { created: [], updated: [{ before: dog, after: dog }], deleted: [] } })).toThrow(ConflictError);
    store.apply(r.inverse);
    expect(store.listClasses()).toEqual([cat, dog]);
  });

  it('rejects malformed changesets and dangling references with a message naming the field or record', () => {
    expect(() => store.apply({ created: [{ ...box(imgs[0], 1), geometry: { kind: 'box', x: 0, y: 0, w: -1, h: 2 } }] }))
      .toThrow(/invalid changeset at created\.0\.geometry\.w/);
    expect(() => store.apply({ created: [box(9999, 1)] })).toThrow(/refers to image 9999, which is not in the project/);
    expect(() => store.apply({ created: [box(imgs[0], 42)] })).toThrow(/refers to class 42, which does not exist/);
    const a = box(imgs[0], 1);
    expect(() => store.apply({ created: [a], deleted: [a] })).toThrow(ChangesetError);
    expect(store.annotationsOf(imgs[0])).toEqual([]);
  });
});
