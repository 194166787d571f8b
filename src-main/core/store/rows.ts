// Row shapes as stored in SQLite and their conversion to the contract's domain types.
import type { Annotation, Geometry, ImageRecord, LabelClass } from '../../contract/schemas';

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

export const classFromRow = (r: ClassRow): LabelClass => ({ id: r.id, name: r.name, color: r.color, hotkey: r.hotkey, order: r.ord });

/** The geometry column holds the geometry without its `kind` (that is its own column). */
export function geometryToColumn(g: Geometry): string {
  const { kind: _kind, ...rest } = g;
  return JSON.stringify(rest);
}
export function geometryFromColumn(kind: string, json: string): Geometry {
  return { kind, ...JSON.parse(json) } as Geometry;
}

export const annotationFromRow = (r: AnnotationRow): Annotation => ({
  id: r.id,
  imageId: r.image_id,
  classId: r.class_id,
  geometry: geometryFromColumn(r.kind, r.geometry),
  source: r.source as Annotation['source'],
  score: r.score,
  modelVersion: r.model_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

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
