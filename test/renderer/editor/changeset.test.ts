import type { Annotation, Changeset, LabelClass } from '../../../src-main/contract/schemas';
import { describe, expect, it } from 'vitest';
import { applyToClasses, applyToList, invert, isEmpty, newId, touchedImages } from '../../../src-renderer/src/editor/changeset';

const a = (id: string, imageId = 1, classId = 1, x = 0, createdAt = 1): Annotation => ({
  id, imageId, classId, geometry: { kind: 'box', x, y: 0, w: 5, h: 5 }, source: 'human', score: null, modelVersion: null, createdAt, updatedAt: createdAt,
});
const cls = (id: number, name: string): LabelClass => ({ id, name, color: '#112233', hotkey: null, order: id });

describe('changesets', () => {
  const cs: Changeset = {
    created: [a('n', 1, 1, 0, 5)],
    updated: [{ before: a('u'), after: { ...a('u'), classId: 2 } }],
    deleted: [a('d', 1, 1, 0, 2)],
    classes: { created: [cls(3, 'new')], updated: [{ before: cls(1, 'x'), after: cls(1, 'y') }], deleted: [cls(2, 'gone')] },
    label: 'mixed',
  };

  it('inverts every part, and inverting twice gives the original', () => {
    const inv = invert(cs);
    expect(inv.created.map((x) => x.id)).toEqual(['d']);
    expect(inv.deleted.map((x) => x.id)).toEqual(['n']);
    expect(inv.updated[0].after.classId).toBe(1);
    expect(inv.classes!.created.map((c) => c.id)).toEqual([2]);
    expect(inv.classes!.deleted.map((c) => c.id)).toEqual([3]);
    expect(inv.classes!.updated[0].after.name).toBe('x');
    expect(invert(inv)).toEqual(cs);
  });

  it('applying a changeset then its inverse restores the list', () => {
    const start = [a('u'), a('d', 1, 1, 0, 2), a('other', 2)];
    const after = applyToList(start, cs, 1);
    expect(after.map((x) => x.id).sort()).toEqual(['n', 'other', 'u']);
    expect(after.find((x) => x.id === 'u')!.classId).toBe(2);
    const back = applyToList(after, invert(cs), 1);
    expect(back).toEqual(applyToList(start, { created: [], updated: [], deleted: [] }, 1));
  });

  it('applies class edits and keeps them ordered', () => {
    const out = applyToClasses([cls(1, 'x'), cls(2, 'gone')], cs);
    expect(out.map((c) => `${c.id}:${c.name}`)).toEqual(['1:y', '3:new']);
  });

  it('knows emptiness, touched images and makes unique ids', () => {
    expect(isEmpty({ created: [], updated: [], deleted: [] })).toBe(true);
    expect(isEmpty(cs)).toBe(false);
    expect([...touchedImages({ created: [a('x', 4)], updated: [], deleted: [a('y', 7)] })].sort()).toEqual([4, 7]);
    expect(new Set(Array.from({ length: 100 }, newId)).size).toBe(100);
  });
});
