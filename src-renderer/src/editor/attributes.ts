// Flags and attributes of the selected shapes: what the side panel shows for a mixed selection, and the one
// changeset an edit becomes (every selected shape updated, undoable as one step).
import type { Annotation, AnnotationFlags, AttributeDef, AttributeValue, Changeset, FlagName, LabelClass } from '@contract/schemas';

export const FLAGS: { name: FlagName; label: string }[] = [
  { name: 'occluded', label: 'Occluded' },
  { name: 'truncated', label: 'Truncated' },
  { name: 'difficult', label: 'Difficult' },
  { name: 'crowd', label: 'Crowd' },
];

/** true / false when every shape agrees, 'mixed' otherwise. */
export type Tri = boolean | 'mixed';

export function flagState(shapes: readonly Annotation[], flag: FlagName): Tri {
  const on = shapes.filter((a) => a.flags?.[flag]).length;
  return on === 0 ? false : on === shapes.length ? true : 'mixed';
}

/** The value a shape shows for an attribute: its own, else the definition's default. */
export function attributeValue(a: Annotation, def: AttributeDef): AttributeValue | undefined {
  return a.attributes?.[def.name] ?? def.default;
}

/** One value when every shape shows the same, 'mixed' otherwise (undefined: none set, no default). */
export function sharedValue(shapes: readonly Annotation[], def: AttributeDef): AttributeValue | undefined | 'mixed' {
  const vals = new Set(shapes.map((a) => attributeValue(a, def)));
  return vals.size === 1 ? [...vals][0] : 'mixed';
}

/** Definitions the panel offers: those of the selection's class when all shapes share one class. */
export function sharedDefs(shapes: readonly Annotation[], byId: ReadonlyMap<number, LabelClass>): AttributeDef[] {
  const ids = new Set(shapes.map((a) => a.classId));
  if (ids.size !== 1) return [];
  return byId.get([...ids][0])?.attributes ?? [];
}

/** Attributes the shapes carry that their class does not define (imported ones): shown so they are not hidden. */
export function extraAttributes(shapes: readonly Annotation[], defs: readonly AttributeDef[]): string[] {
  const known = new Set(defs.map((d) => d.name));
  const out = new Set<string>();
  for (const a of shapes) for (const k of Object.keys(a.attributes ?? {})) if (!known.has(k)) out.add(k);
  return [...out].sort();
}

function plain<T>(v: T): T {
  // shapes come out of reactive stores: the transport must get plain data (structured clone refuses proxies)
  return JSON.parse(JSON.stringify(v)) as T;
}

function updateAll(shapes: readonly Annotation[], label: string, edit: (a: Annotation) => Annotation | null): Changeset {
  const now = Date.now();
  const updated: Changeset['updated'] = [];
  for (const a of shapes) {
    const next = edit(a);
    if (next) updated.push({ before: plain(a), after: plain({ ...next, updatedAt: Math.max(now, a.updatedAt + 1) }) });
  }
  return { created: [], updated, deleted: [], label };
}

/** Sets (or clears) one flag on every shape that differs. */
export function setFlag(shapes: readonly Annotation[], flag: FlagName, on: boolean): Changeset {
  return updateAll(shapes, `${on ? 'mark' : 'unmark'} ${flag}`, (a) => {
    if (!!a.flags?.[flag] === on) return null;
    const flags: AnnotationFlags = { ...a.flags };
    if (on) flags[flag] = true;
    else delete flags[flag];
    const next: Annotation = { ...a, flags };
    if (!Object.keys(flags).length) delete next.flags;
    return next;
  });
}

/** Sets one attribute on every shape whose value differs; `undefined` removes it. */
export function setAttribute(shapes: readonly Annotation[], name: string, value: AttributeValue | undefined): Changeset {
  return updateAll(shapes, value === undefined ? `clear ${name}` : `set ${name}`, (a) => {
    const cur = a.attributes?.[name];
    if (cur === value) return null;
    const attributes = { ...a.attributes };
    if (value === undefined) delete attributes[name];
    else attributes[name] = value;
    const next: Annotation = { ...a, attributes };
    if (!Object.keys(attributes).length) delete next.attributes;
    return next;
  });
}

/** Parses what the user typed for a definition; an error sentence when it does not fit. */
export function parseAttributeInput(def: AttributeDef, raw: string | boolean): { value: AttributeValue | undefined } | { error: string } {
  if (def.type === 'checkbox') return { value: raw === true || raw === 'true' };
  const text = String(raw).trim();
  if (text === '') return { value: undefined };
  if (def.type === 'number') {
    const n = Number(text);
    return Number.isFinite(n) ? { value: n } : { error: `${def.name} must be a number` };
  }
  if (def.type === 'select' && !def.options?.includes(text)) return { error: `${def.name} must be one of ${def.options?.join(', ')}` };
  return text.length > 1000 ? { error: `${def.name} is longer than 1000 characters` } : { value: text };
}
