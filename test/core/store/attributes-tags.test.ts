// Per-shape flags and attributes, class attribute definitions and image tags: stored, undone and redone
// exactly through changesets; filtered and counted; carried to and from the neutral Dataset.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Changeset, type Annotation, type LabelClass } from '../../../src-main/contract/schemas';
import { openDb } from '../../../src-main/core/store/db';
import { ChangesetError, ConflictError } from '../../../src-main/core/store/errors';
import { migrate } from '../../../src-main/core/store/migrate';
import { m001 } from '../../../src-main/core/store/migrations/001-initial';
import { m002 } from '../../../src-main/core/store/migrations/002-models';
import { openProject, type SqliteProjectStore } from '../../../src-main/core/store/project';
import { box, projectWithImages, tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
let store: SqliteProjectStore;
let imgs: number[];
const car: LabelClass = {
  id: 1, name: 'car', color: '#ff0000', hotkey: null, order: 0,
  attributes: [
    { name: 'color', type: 'select', options: ['red', 'blue'], default: 'red' },
    { name: 'parked', type: 'checkbox', default: false },
  ],
};

beforeEach(() => {
  t = tempDir();
  ({ store, imageIds: imgs } = projectWithImages(t.dir, 3));
  store.apply({ classes: { created: [car], updated: [], deleted: [] } });
});
afterEach(() => {
  store.close();
  t.cleanup();
});

const state = () => ({ anns: imgs.map((id) => store.annotationsOf(id)), classes: store.listClasses(), images: imgs.map((id) => store.getImage(id)) });

describe('flags and attributes on shapes', () => {
  it('are stored, and an update of only a flag or an attribute undoes and redoes exactly', () => {
    const a = box(imgs[0], 1, 5, { flags: { occluded: true, crowd: true }, attributes: { color: 'blue', parked: true, doors: 4 } });
    store.apply({ created: [a] });
    expect(store.annotationsOf(imgs[0])).toEqual([a]);
    const before = state();
    const b: Annotation = { ...a, flags: { difficult: true }, attributes: { color: 'red' }, updatedAt: a.updatedAt + 1 };
    const r = store.apply({ updated: [{ before: a, after: b }], label: 'flags' });
    expect(store.annotationsOf(imgs[0])).toEqual([b]);
    const after = state();
    const undo = store.apply(r.inverse);
    expect(state()).toEqual(before);
    // the inverse travels through the contract like the renderer's history sends it
    store.apply(Changeset.parse(JSON.parse(JSON.stringify(undo.inverse))));
    expect(state()).toEqual(after);
    // delete then undo recreates the flags too (the crowd flag lives in the old iscrowd column)
    const d = store.apply({ deleted: [b] });
    expect(store.annotationsOf(imgs[0])).toEqual([]);
    store.apply(d.inverse);
    expect(store.annotationsOf(imgs[0])).toEqual([b]);
  });

  it('false flags and empty attributes mean none: a `before` written either way matches the stored record', () => {
    const a = box(imgs[0], 1);
    store.apply({ created: [{ ...a, flags: { occluded: false }, attributes: {} }] });
    expect(store.annotationsOf(imgs[0])).toEqual([a]);
    const b = { ...a, flags: { truncated: true } };
    expect(() => store.apply({ updated: [{ before: { ...a, flags: {} }, after: b }] })).not.toThrow();
    expect(store.annotationsOf(imgs[0])).toEqual([b]);
    // a stale `before` (flag already changed elsewhere) is a conflict
    expect(() => store.apply({ updated: [{ before: a, after: { ...a, flags: { difficult: true } } }] })).toThrow(ConflictError);
  });

  it('refuses unknown flags and non-scalar attribute values at the contract, naming the field', () => {
    const a = box(imgs[0], 1);
    expect(() => store.apply({ created: [{ ...a, flags: { blurry: true } as never }] })).toThrow(/invalid changeset at created\.0\.flags/);
    expect(() => store.apply({ created: [{ ...a, attributes: { pts: [1, 2] } as never }] })).toThrow(/invalid changeset at created\.0\.attributes\.pts/);
    expect(store.annotationsOf(imgs[0])).toEqual([]);
  });
});

describe('class attribute definitions', () => {
  it('ride on class updates: defining one undoes exactly; bad definitions are refused with the reason', () => {
    expect(store.listClasses()).toEqual([car]);
    const next: LabelClass = { ...car, attributes: [...car.attributes!, { name: 'doors', type: 'number', default: 4 }] };
    const r = store.apply({ classes: { created: [], updated: [{ before: car, after: next }], deleted: [] } });
    expect(store.listClasses()).toEqual([next]);
    store.apply(r.inverse);
    expect(store.listClasses()).toEqual([car]);
    const noOptions = { ...car, attributes: [{ name: 'kind', type: 'select' as const }] };
    expect(() => store.apply({ classes: { created: [], updated: [{ before: car, after: noOptions }], deleted: [] } })).toThrow(/give it at least one option/);
    const badDefault = { ...car, attributes: [{ name: 'n', type: 'number' as const, default: 'x' }] };
    expect(() => store.apply({ classes: { created: [], updated: [{ before: car, after: badDefault }], deleted: [] } })).toThrow(/default of attribute 'n' \(number\) must be a number/);
    const twice = { ...car, attributes: [{ name: 'n', type: 'text' as const }, { name: 'n', type: 'text' as const }] };
    expect(() => store.apply({ classes: { created: [], updated: [{ before: car, after: twice }], deleted: [] } })).toThrow(/unique/);
    // removing every definition stores none (and compares equal to a class sent with an empty list)
    const none = { ...car, attributes: [] };
    store.apply({ classes: { created: [], updated: [{ before: car, after: none }], deleted: [] } });
    expect(store.listClasses()).toEqual([{ id: 1, name: 'car', color: '#ff0000', hotkey: null, order: 0 }]);
  });
});

describe('image tags', () => {
  it('are added and removed by changesets, undo exactly, and come with the image records', () => {
    const r0 = store.revision();
    const r = store.apply({ tags: { added: [{ imageId: imgs[0], tag: 'night' }, { imageId: imgs[0], tag: 'cat' }, { imageId: imgs[1], tag: 'cat' }], removed: [] }, label: 'tag' });
    expect(r.revision).toBe(r0 + 1);
    expect(r.inverse.tags).toEqual({ added: [], removed: [{ imageId: imgs[0], tag: 'night' }, { imageId: imgs[0], tag: 'cat' }, { imageId: imgs[1], tag: 'cat' }] });
    expect(store.getImage(imgs[0])!.tags).toEqual(['cat', 'night']);
    expect(store.getImage(imgs[2])!.tags).toBeUndefined();
    expect(store.listImages().items.map((i) => i.tags)).toEqual([['cat', 'night'], ['cat'], undefined]);
    expect(store.listImages({ tag: 'cat' }).items.map((i) => i.id)).toEqual([imgs[0], imgs[1]]);
    expect(store.imageIds({ tag: 'night' })).toEqual([imgs[0]]);
    expect(store.tagCounts()).toEqual([{ tag: 'cat', count: 2 }, { tag: 'night', count: 1 }]);
    // tags are image-level labels beside the shapes: they do not change the labelled status
    expect(store.getImage(imgs[0])!.status).toBe('unlabeled');
    store.apply(r.inverse);
    expect(store.listImages().items.map((i) => i.tags)).toEqual([undefined, undefined, undefined]);
    expect(store.tagCounts()).toEqual([]);
  });

  it('adding a tag the image has, or removing one it lacks, is a conflict that changes nothing; unknown images are refused', () => {
    store.apply({ tags: { added: [{ imageId: imgs[0], tag: 'cat' }], removed: [] } });
    const r = store.revision();
    expect(() => store.apply({ tags: { added: [{ imageId: imgs[1], tag: 'dog' }, { imageId: imgs[0], tag: 'cat' }], removed: [] } })).toThrow(ConflictError);
    expect(() => store.apply({ tags: { added: [], removed: [{ imageId: imgs[1], tag: 'cat' }] } })).toThrow(/has no tag 'cat'/);
    expect(() => store.apply({ tags: { added: [{ imageId: 999, tag: 'x' }], removed: [] } })).toThrow(ChangesetError);
    expect(() => store.apply({ tags: { added: [{ imageId: imgs[1], tag: '  ' }], removed: [] } })).toThrow(/invalid changeset at tags\.added\.0\.tag/);
    expect(store.revision()).toBe(r);
    expect(store.getImage(imgs[1])!.tags).toBeUndefined();
  });
});

describe('neutral Dataset', () => {
  it('toDataset carries flags, attributes, class definitions and tags', () => {
    store.apply({
      created: [box(imgs[0], 1, 5, { flags: { occluded: true, truncated: true, crowd: true }, attributes: { color: 'blue' } }), box(imgs[1], 1)],
      tags: { added: [{ imageId: imgs[1], tag: 'night' }], removed: [] },
    });
    const ds = store.toDataset();
    expect(ds.classes).toEqual([{ name: 'car', color: '#ff0000', attributes: car.attributes }]);
    expect(ds.images.map((i) => i.tags)).toEqual([undefined, ['night'], undefined]);
    expect(ds.annotations.map((a) => [a.iscrowd, a.flags, a.attributes])).toEqual([
      [true, { occluded: true, truncated: true }, { color: 'blue' }],
      [undefined, undefined, undefined],
    ]);
  });
});

describe('schema 3 upgrade', () => {
  it('keeps a schema-2 project\'s annotations (COCO crowd included) and gives them no other flags', () => {
    const dir = join(t.dir, 'old');
    mkdirSync(dir);
    const db = openDb(join(dir, 'project.sqlite'));
    migrate(db, [m001, m002]);
    db.exec(`INSERT INTO meta (key, value) VALUES ('name', 'old');
      INSERT INTO images (id, hash, path, file_name, format, bytes, width, height, added_at) VALUES (1, 'abc', 'media/a.jpg', 'a.jpg', 'jpeg', 1, 10, 10, 1);
      INSERT INTO classes (id, name, color, ord) VALUES (1, 'cat', '#ff0000', 0);
      INSERT INTO annotations (id, image_id, class_id, kind, geometry, iscrowd, created_at, updated_at) VALUES ('a1', 1, 1, 'box', '{"x":1,"y":2,"w":3,"h":4}', 1, 5, 6);`);
    db.close();
    const s = openProject(dir);
    try {
      expect(s.annotationsOf(1)).toEqual([
        { id: 'a1', imageId: 1, classId: 1, geometry: { kind: 'box', x: 1, y: 2, w: 3, h: 4 }, source: 'human', score: null, modelVersion: null, createdAt: 5, updatedAt: 6, flags: { crowd: true } },
      ]);
      expect(s.listClasses()).toEqual([{ id: 1, name: 'cat', color: '#ff0000', hotkey: null, order: 0 }]);
      expect(s.getImage(1)!.tags).toBeUndefined();
      const cols = (s.db.prepare(`PRAGMA table_info(annotations)`).all() as { name: string }[]).map((c) => c.name);
      expect(cols).toEqual(expect.arrayContaining(['occluded', 'truncated', 'difficult', 'attributes']));
    } finally {
      s.close();
    }
  });
});
