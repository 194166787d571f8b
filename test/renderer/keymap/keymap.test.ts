import { describe, expect, it } from 'vitest';
import { ACTIONS, buildLookup, chordOf, classSlot, conflicts, normaliseChord, PRESETS, resolveBindings } from '../../../src-renderer/src/keymap/keymap';

describe('keymap', () => {
  it('turns key events into chords, Cmd counting as Ctrl', () => {
    expect(chordOf({ key: 'Z', ctrlKey: true, shiftKey: true })).toBe('ctrl+shift+z');
    expect(chordOf({ key: 'z', metaKey: true })).toBe('ctrl+z');
    expect(chordOf({ key: 'ArrowRight' })).toBe('arrowright');
    expect(chordOf({ key: ' ' })).toBe('space');
    expect(chordOf({ key: '[' })).toBe('[');
    expect(normaliseChord('Shift+Ctrl+Z')).toBe('ctrl+shift+z');
    expect(normaliseChord('cmd+y')).toBe('ctrl+y');
  });

  it('has the conventional default bindings', () => {
    const look = buildLookup(PRESETS.default);
    const expectations: Record<string, string> = {
      d: 'image.next', arrowright: 'image.next', a: 'image.prev', arrowleft: 'image.prev', r: 'tool.box', p: 'tool.polygon',
      b: 'tool.brush', e: 'tool.eraser', v: 'tool.select', delete: 'edit.delete', escape: 'edit.cancel', f: 'view.fit',
      'ctrl+z': 'edit.undo', 'ctrl+shift+z': 'edit.redo', 'ctrl+y': 'edit.redo', 'ctrl+s': 'app.save', f1: 'app.help', '[': 'brush.smaller', ']': 'brush.bigger',
    };
    for (const [chord, action] of Object.entries(expectations)) expect(look.get(chord), chord).toBe(action);
  });

  it('ships conflict-free presets that bind every action', () => {
    for (const [name, b] of Object.entries(PRESETS)) {
      expect(conflicts(b), name).toEqual([]);
      for (const action of Object.keys(ACTIONS)) expect(b[action as keyof typeof ACTIONS]?.length, `${name} ${action}`).toBeGreaterThan(0);
    }
    expect(buildLookup(PRESETS.labelme).get('ctrl+r')).toBe('tool.box');
    expect(buildLookup(PRESETS.cvat).get('f')).toBe('image.next');
  });

  it('lets overrides replace a preset binding and reports clashes', () => {
    const b = resolveBindings('default', { 'tool.box': ['w'] });
    expect(buildLookup(b).get('w')).toBe('tool.box');
    expect(buildLookup(b).get('r')).toBeUndefined();
    expect(conflicts(resolveBindings('default', { 'tool.box': ['d'] }))).toEqual([{ chord: 'd', actions: ['image.next', 'tool.box'] }]);
  });

  it('maps plain digits to class slots only', () => {
    expect(classSlot({ key: '3' })).toBe(3);
    expect(classSlot({ key: '0' })).toBeNull();
    expect(classSlot({ key: '3', ctrlKey: true })).toBeNull();
  });
});
