// Row shapes as stored in SQLite and their conversion to the contract's domain types.
import { normalizeAnnotation, type Annotation, type AnnotationAttributes, type AttributeDef, type Geometry, type ImageRecord, type LabelClass } from '../../contract/schemas';

export interface ImageRow {
  id: number;
  hash: string;
  path: string;
  linked: number;
  file_name: string;
  format: string;
  bytes: number;
  width: number;
  height: number;
  orientation: number;
  split: string;
  status: string;
  added_at: number;
}

export interface ClassRow {
  id: number;
  name: string;
  color: string;
  hotkey: string | null;
  ord: number;
  source_id: number | null;
  attributes: string | null;
}

export interface AnnotationRow {
  id: string;
  image_id: number;
  class_id: number;
  kind: string;
  geometry: string;
  source: string;
  score: number | null;
  model_version: number | null;
  iscrowd: number;
  source_id: string | null;
  created_at: number;
  updated_at: number;
  occluded: number;
  truncated: number;
  difficult: number;
  attributes: string | null;
}

export const imageFromRow = (r: ImageRow): ImageRecord => ({
  id: r.id,
  hash: r.hash,
  fileName: r.file_name,
  path: r.path,
  width: r.width,
  height: r.height,
  orientation: r.orientation,
  split: r.split as ImageRecord['split'],
  status: r.status as ImageRecord['status'],
  addedAt: r.added_at,
});

/** An image row with its tags (`tags_json`: SQLite json_group_array of its tags, sorted). */
export const imageWithTags = (r: ImageRow & { tags_json?: string | null }): ImageRecord => {
  const im = imageFromRow(r);
  const tags = r.tags_json ? (JSON.parse(r.tags_json) as string[]) : [];
  if (tags.length) im.tags = tags;
  return im;
};

/** SELECT list for images with their tags (used with imageWithTags). */
export const IMAGE_COLUMNS_WITH_TAGS =
  `images.*, (SELECT json_group_array(tag) FROM (SELECT tag FROM image_tags t WHERE t.image_id = images.id ORDER BY tag)) AS tags_json`;

export const classFromRow = (r: ClassRow): LabelClass => {
  const c: LabelClass = { id: r.id, name: r.name, color: r.color, hotkey: r.hotkey, order: r.ord };
  const defs = r.attributes ? (JSON.parse(r.attributes) as AttributeDef[]) : [];
  if (defs.length) c.attributes = defs;
  return c;
};

/** The classes.attributes column: NULL when the class has none. */
export const classAttributesToColumn = (c: LabelClass): string | null => (c.attributes?.length ? JSON.stringify(c.attributes) : null);

/** The flag and attribute columns of an annotation, in the order occluded, truncated, difficult, iscrowd, attributes. */
export function flagColumns(a: Annotation): [number, number, number, number, string | null] {
  const f = a.flags ?? {};
  const attrs = a.attributes && Object.keys(a.attributes).length ? JSON.stringify(a.attributes) : null;
  return [f.occluded ? 1 : 0, f.truncated ? 1 : 0, f.difficult ? 1 : 0, f.crowd ? 1 : 0, attrs];
}

/** The geometry column holds the geometry without its `kind` (that is its own column). */
export function geometryToColumn(g: Geometry): string {
  const { kind: _kind, ...rest } = g;
  return JSON.stringify(rest);
}
export function geometryFromColumn(kind: string, json: string): Geometry {
  return { kind, ...JSON.parse(json) } as Geometry;
}

const rawAnnotationFromRow = (r: AnnotationRow): Annotation => ({
  id: r.id,
  imageId: r.image_id,
  classId: r.class_id,
  geometry: geometryFromColumn(r.kind, r.geometry),
  source: r.source as Annotation['source'],
  score: r.score,
  modelVersion: r.model_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  flags: { occluded: r.occluded === 1, truncated: r.truncated === 1, difficult: r.difficult === 1, crowd: r.iscrowd === 1 },
  ...(r.attributes ? { attributes: JSON.parse(r.attributes) as AnnotationAttributes } : {}),
});
/** Stored annotations in the contract's normal form (only true flags, no empty attributes). */
export const annotationFromRow = (r: AnnotationRow): Annotation => normalizeAnnotation(rawAnnotationFromRow(r));

/** Key-order-independent JSON, used to compare a changeset's `before` with the stored record. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
