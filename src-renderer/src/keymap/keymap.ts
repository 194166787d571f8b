// Keyboard shortcuts: named actions, three presets (default, LabelMe, CVAT) and user overrides.
// A chord is written like "ctrl+shift+z": modifiers in a fixed order, then the key in lower case.

export const ACTIONS = {
  'image.next': 'Next image',
  'image.prev': 'Previous image',
  'tool.box': 'Box tool',
  'tool.polygon': 'Polygon tool',
  'tool.brush': 'Brush',
  'tool.eraser': 'Eraser',
  'tool.select': 'Select / edit',
  'brush.smaller': 'Brush smaller',
  'brush.bigger': 'Brush bigger',
  'edit.delete': 'Delete selected',
  'edit.cancel': 'Cancel / deselect',
  'edit.finish': 'Close polygon',
  'edit.deleteVertex': 'Delete last/active vertex',
  'edit.undo': 'Undo',
  'edit.redo': 'Redo',
  'edit.duplicate': 'Duplicate selected',
  'edit.copy': 'Copy selected',
  'edit.paste': 'Paste',
  'edit.copyPrevious': 'Copy all from previous image',
  'edit.selectAll': 'Select all',
  'view.fit': 'Fit image',
  'view.actual': 'Zoom 1:1',
  'view.toggleHidden': 'Hide / show annotations',
  'app.save': 'Save (autosaved)',
  'app.help': 'Shortcut sheet',
} as const;
export type Action = keyof typeof ACTIONS;
export type Bindings = Record<Action, string[]>;

const DEFAULT: Bindings = {
  'image.next': ['d', 'arrowright'],
  'image.prev': ['a', 'arrowleft'],
  'tool.box': ['r'],
  'tool.polygon': ['p'],
  'tool.brush': ['b'],
  'tool.eraser': ['e'],
  'tool.select': ['v'],
  'brush.smaller': ['['],
  'brush.bigger': [']'],
  'edit.delete': ['delete'],
  'edit.cancel': ['escape'],
  'edit.finish': ['enter'],
  'edit.deleteVertex': ['backspace'],
  'edit.undo': ['ctrl+z'],
  'edit.redo': ['ctrl+shift+z', 'ctrl+y'],
  'edit.duplicate': ['ctrl+d'],
  'edit.copy': ['ctrl+c'],
  'edit.paste': ['ctrl+v'],
  'edit.copyPrevious': ['ctrl+shift+v'],
  'edit.selectAll': ['ctrl+a'],
  'view.fit': ['f'],
  'view.actual': ['ctrl+0'],
  'view.toggleHidden': ['h'],
  'app.save': ['ctrl+s'],
  'app.help': ['f1'],
};

export const PRESETS: Record<'default' | 'labelme' | 'cvat', Bindings> = {
  default: DEFAULT,
  // LabelMe / labelImg family: Ctrl-chords for tools, D/A for images, Ctrl+P keeps the previous labels.
  labelme: {
    ...DEFAULT,
    'tool.box': ['ctrl+r'],
    'tool.polygon': ['ctrl+n'],
    'tool.select': ['ctrl+j'],
    'edit.copyPrevious': ['ctrl+p'],
    'view.fit': ['ctrl+f'],
    'view.toggleHidden': ['t'],
    'image.next': ['d'],
    'image.prev': ['a'],
  },
  // CVAT: F/D for frames, N to draw, H hides, Ctrl+B propagates.
  cvat: {
    ...DEFAULT,
    'image.next': ['f'],
    'image.prev': ['d'],
    'tool.box': ['n'],
    'edit.copyPrevious': ['ctrl+b'],
    'view.fit': ['ctrl+shift+f'],
    'tool.eraser': ['shift+e'],
  },
};
export type PresetName = keyof typeof PRESETS;

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
}

const KEY_NAMES: Record<string, string> = { ' ': 'space', esc: 'escape', del: 'delete', '+': 'plus' };

/** The chord a keydown event represents; Cmd counts as Ctrl so the same map works on macOS. */
export function chordOf(e: KeyLike): string {
  let key = e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
  key = KEY_NAMES[key] ?? key;
  const mods = [];
  if (e.ctrlKey || e.metaKey) mods.push('ctrl');
  if (e.altKey) mods.push('alt');
  if (e.shiftKey && key.length > 1) mods.push('shift');
  else if (e.shiftKey && /^[a-z0-9]$/.test(key)) mods.push('shift');
  return [...mods, key].join('+');
}

/** Parses and normalises a chord typed by hand ("Shift+Ctrl+Z" → "ctrl+shift+z"). */
export function normaliseChord(s: string): string {
  const parts = s.toLowerCase().split('+').map((p) => p.trim()).filter(Boolean);
  const key = parts.pop() ?? '';
  const has = (m: string) => parts.includes(m) || (m === 'ctrl' && (parts.includes('cmd') || parts.includes('meta') || parts.includes('control')));
  return [has('ctrl') && 'ctrl', has('alt') && 'alt', has('shift') && 'shift', KEY_NAMES[key] ?? key].filter(Boolean).join('+');
}

/** Preset plus overrides (an override replaces that action's chords). */
export function resolveBindings(preset: PresetName, overrides: Partial<Bindings>): Bindings {
  return { ...PRESETS[preset], ...overrides } as Bindings;
}

export function buildLookup(b: Bindings): Map<string, Action> {
  const map = new Map<string, Action>();
  for (const [action, chords] of Object.entries(b) as [Action, string[]][]) for (const c of chords) if (!map.has(c)) map.set(c, action);
  return map;
}

/** Actions sharing a chord: shown as a warning in the shortcut sheet. */
export function conflicts(b: Bindings): { chord: string; actions: Action[] }[] {
  const by = new Map<string, Action[]>();
  for (const [action, chords] of Object.entries(b) as [Action, string[]][])
    for (const c of chords) by.set(c, [...(by.get(c) ?? []), action]);
  return [...by].filter(([, a]) => a.length > 1).map(([chord, actions]) => ({ chord, actions }));
}

/** Digit keys 1–9 pick classes by position (fixed, like Label Studio). */
export function classSlot(e: KeyLike): number | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  return /^[1-9]$/.test(e.key) ? Number(e.key) : null;
}

export const displayChord = (c: string) =>
  c
    .split('+')
    .map((p) => (p.length === 1 ? p.toUpperCase() : p === 'arrowright' ? '→' : p === 'arrowleft' ? '←' : p[0].toUpperCase() + p.slice(1)))
    .join('+');
