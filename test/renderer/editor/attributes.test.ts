import { describe, expect, it } from 'vitest';
import { Changeset, type Annotation, type AttributeDef, type LabelClass } from '../../../src-main/contract/schemas';
import { extraAttributes, flagState, parseAttributeInput, setAttribute, setFlag, sharedDefs, sharedValue } from '../../../src-renderer/src/editor/attributes';
import { invert } from '../../../src-renderer/src/editor/changeset';

const shape = (id: string, extra: Partial<Annotation> = {}): Annotation => ({
  id, imageId: 1, classId: 1, geometry: { kind: 'box', x: 0, y: 0, w: 10, h: 10 }, source: 'human', score: null, modelVersion: null, createdAt: 1, updatedAt: 1, ...extra,
});
const color: AttributeDef = { name: 'color', type: 'select', options: ['red', 'blue'], default: 'red' };

describe('shape flags and attributes (side panel)', () => {
  it('a flag shows true/false/mixed over the selection, and toggling it updates only the shapes that differ, as one valid changeset', () => {
    const a = shape('a', { flags: { occluded: true } });
    const b = shape('b');
    expect(flagState([a], 'occluded')).toBe(true);
    expect(flagState([b], 'occluded')).toBe(false);
    expect(flagState([a, b], 'occluded')).toBe('mixed');
    const cs = setFlag([a, b], 'occluded', true);
    expect(cs.updated.map((u) => u.before.id)).toEqual(['b']);
    expect(cs.updated[0].after.flags).toEqual({ occluded: true });
    expect(cs.updated[0].after.updatedAt).toBeGreaterThan(b.updatedAt);
    expect(Changeset.safeParse(cs).success).toBe(true);
    // clearing the last flag leaves no empty flags object; the inverse restores the shape exactly
    const off = setFlag([a], 'occluded', false);
    expect(off.updated[0].after).not.toHaveProperty('flags');
    expect(invert(off).updated[0].after).toEqual(a);
  });

  it('attributes: value or default, mixed, set and clear; definitions only for one class; imported extras listed', () => {
    const a = shape('a', { attributes: { color: 'blue', legacy: 3 } });
    const b = shape('b');
    expect(sharedValue([a], color)).toBe('blue');
    expect(sharedValue([b], color)).toBe('red'); // the default
    expect(sharedValue([a, b], color)).toBe('mixed');
    const set = setAttribute([a, b], 'color', 'red');
    expect(set.updated.map((u) => [u.before.id, u.after.attributes])).toEqual([['a', { color: 'red', legacy: 3 }], ['b', { color: 'red' }]]);
    const clear = setAttribute([b], 'nothing', undefined);
    expect(clear.updated).toEqual([]);
    const byId = new Map<number, LabelClass>([[1, { id: 1, name: 'car', color: '#ff0000', hotkey: null, order: 0, attributes: [color] }]]);
    expect(sharedDefs([a, b], byId)).toEqual([color]);
    expect(sharedDefs([a, { ...b, classId: 2 }], byId)).toEqual([]);
    expect(extraAttributes([a, b], [color])).toEqual(['legacy']);
  });

  it('parses typed input per definition type and says what is wrong', () => {
    expect(parseAttributeInput(color, 'blue')).toEqual({ value: 'blue' });
    expect(parseAttributeInput(color, 'green')).toEqual({ error: 'color must be one of red, blue' });
    expect(parseAttributeInput({ name: 'doors', type: 'number' }, ' 4 ')).toEqual({ value: 4 });
    expect(parseAttributeInput({ name: 'doors', type: 'number' }, 'four')).toEqual({ error: 'doors must be a number' });
    expect(parseAttributeInput({ name: 'note', type: 'text' }, '')).toEqual({ value: undefined });
    expect(parseAttributeInput({ name: 'parked', type: 'checkbox' }, true)).toEqual({ value: true });
  });
});
