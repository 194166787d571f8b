// Flags and custom attributes between other tools' spellings and the neutral Dataset: which attribute names are
// our flags, and the attribute definitions a class gets from the values its imported shapes carry.
import { AttributeName, AttributeValue, type AnnotationAttributes, type AttributeDef } from '../../contract/schemas';
import type { DatasetAnnotation } from './types';

/** Attribute names that are flags in the studio (CVAT writes `occluded` beside the custom attributes). */
export const FLAG_ATTRIBUTES = ['occluded', 'truncated', 'difficult'] as const;
export type DatasetFlag = (typeof FLAG_ATTRIBUTES)[number];

const isFlag = (k: string): k is DatasetFlag => (FLAG_ATTRIBUTES as readonly string[]).includes(k);
const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 'true';

/**
 * Splits an attribute map as another tool wrote it into our flags and custom attributes. `crowd`/`iscrowd`
 * names are left to the caller (COCO has its own field). Values that are not scalars are reported, not kept.
 */
export function splitAttributes(raw: Record<string, unknown>, onDropped?: (name: string, why: string) => void): Pick<DatasetAnnotation, 'flags' | 'attributes'> {
  const flags: NonNullable<DatasetAnnotation['flags']> = {};
  const attributes: AnnotationAttributes = {};
  for (const [k, v] of Object.entries(raw)) {
    if (isFlag(k) && (typeof v === 'boolean' || v === 0 || v === 1 || v === '0' || v === '1' || v === 'true' || v === 'false')) {
      if (truthy(v)) flags[k] = true;
      continue;
    }
    if (!AttributeName.safeParse(k).success) {
      onDropped?.(k, 'the name is empty or longer than 64 characters');
      continue;
    }
    const val = AttributeValue.safeParse(v);
    if (!val.success) {
      onDropped?.(k, 'the value is not a boolean, number or text of at most 1000 characters');
      continue;
    }
    attributes[k.trim()] = val.data;
  }
  return { ...(Object.keys(flags).length ? { flags } : {}), ...(Object.keys(attributes).length ? { attributes } : {}) };
}

/** Our flags as an attribute map (true ones only unless `all`; CVAT always writes `occluded`). */
export function flagAttributes(a: Pick<DatasetAnnotation, 'flags'>): Record<DatasetFlag, boolean> {
  return { occluded: !!a.flags?.occluded, truncated: !!a.flags?.truncated, difficult: !!a.flags?.difficult };
}

/**
 * Attribute definitions inferred per class from imported values: booleans → checkbox, numbers → number, text →
 * select when few distinct values were seen (≤ 20), else text. Definitions already known are kept as they are.
 */
export function inferAttributeDefs(annotations: readonly Pick<DatasetAnnotation, 'className' | 'attributes'>[], known: Map<string, AttributeDef[]> = new Map()): Map<string, AttributeDef[]> {
  const seen = new Map<string, Map<string, AttributeValue[]>>();
  for (const a of annotations) {
    if (!a.attributes) continue;
    let byName = seen.get(a.className);
    if (!byName) seen.set(a.className, (byName = new Map()));
    for (const [k, v] of Object.entries(a.attributes)) {
      let vals = byName.get(k);
      if (!vals) byName.set(k, (vals = []));
      if (vals.length < 1000) vals.push(v);
    }
  }
  const out = new Map<string, AttributeDef[]>();
  for (const [cls, byName] of seen) {
    const defs = [...(known.get(cls) ?? [])];
    const have = new Set(defs.map((d) => d.name));
    for (const [name, vals] of byName) {
      if (have.has(name) || defs.length >= 64) continue;
      const types = new Set(vals.map((v) => typeof v));
      if (types.size === 1 && types.has('boolean')) defs.push({ name, type: 'checkbox', default: false });
      else if (types.size === 1 && types.has('number')) defs.push({ name, type: 'number' });
      else {
        const distinct = [...new Set(vals.map(String))].filter((v) => v.length > 0 && v.length <= 200);
        if (distinct.length >= 1 && distinct.length <= 20 && types.size === 1) defs.push({ name, type: 'select', options: distinct.sort() });
        else defs.push({ name, type: 'text' });
      }
    }
    out.set(cls, defs);
  }
  return out;
}
