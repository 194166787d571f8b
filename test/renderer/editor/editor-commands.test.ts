import { describe, expect, it } from 'vitest';
import type { Annotation } from '../../../src-main/contract/schemas';
import { assignClass, backspaceFallback, classChangeNote, listedShapes } from '../../../src-renderer/src/editor/editor-commands';

const box = (id: string, classId = 1): Annotation => ({ id, imageId: 1, classId, geometry: { kind: 'box', x: 0, y: 0, w: 5, h: 5 }, source: 'human', score: null, modelVersion: null, createdAt: 1, updatedAt: 1 });

describe('editor commands (issue 18 smaller things)', () => {
  it('Backspace deletes the selection when the tool has no vertex to delete', () => {
    expect(backspaceFallback(false, [box('a'), box('b')])?.deleted.map((a) => a.id)).toEqual(['a', 'b']);
    expect(backspaceFallback(true, [box('a')])).toBeNull(); // the polygon tool used it (a vertex)
    expect(backspaceFallback(false, [])).toBeNull();
  });
  it('a digit key re-classing the selection is announced, and a no-op is not', () => {
    expect(classChangeNote(assignClass([box('a'), box('b', 2)], 2), 'dog')).toBe('1 shape changed to dog (Ctrl+Z undoes)');
    expect(classChangeNote(assignClass([box('a'), box('b')], 2), 'dog')).toBe('2 shapes changed to dog (Ctrl+Z undoes)');
    expect(classChangeNote(assignClass([box('a', 2)], 2), 'dog')).toBeNull();
  });
  it('lists every shape once the list is grown, selected ones first', () => {
    const list = Array.from({ length: 450 }, (_, i) => box(`s${i}`));
    const first = listedShapes(list, ['s400'], 200);
    expect(first.rows).toHaveLength(200);
    expect(first.rows[0].id).toBe('s400');
    expect(first.more).toBe(250);
    const all = listedShapes(list, ['s400'], 700);
    expect(all.rows).toHaveLength(450);
    expect(all.more).toBe(0);
  });
});
