// Domain shapes shared by core, server, Electron preload and renderer. Every payload that crosses a
// process or network boundary is validated against these zod schemas; core code uses the inferred types.
import { z } from 'zod';

export const Split = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof Split>;

export const ImageStatus = z.enum(['unlabeled', 'labeled', 'reviewed']);
export type ImageStatus = z.infer<typeof ImageStatus>;

/** COCO RLE, always stored in compressed (string) form; `size` is [height, width] as in pycocotools. */
export const Rle = z.object({
  size: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  counts: z.string(),
});
export type Rle = z.infer<typeof Rle>;

/** Boxes are x,y,w,h in image pixels (top-left origin, EXIF-oriented image). */
export const BoxGeometry = z.object({
  kind: z.literal('box'),
  x: z.number().finite(),
  y: z.number().finite(),
  w: z.number().finite().nonnegative(),
  h: z.number().finite().nonnegative(),
});
/** Polygons: one or more rings, each a flat list [x1,y1,x2,y2,...] of at least 3 points. */
export const PolygonGeometry = z.object({
  kind: z.literal('polygon'),
  rings: z.array(z.array(z.number().finite()).min(6)).min(1),
});
export const MaskGeometry = z.object({ kind: z.literal('mask'), rle: Rle });
export const Geometry = z.discriminatedUnion('kind', [BoxGeometry, PolygonGeometry, MaskGeometry]);
export type Geometry = z.infer<typeof Geometry>;
export type BoxGeometry = z.infer<typeof BoxGeometry>;
export type PolygonGeometry = z.infer<typeof PolygonGeometry>;
export type MaskGeometry = z.infer<typeof MaskGeometry>;

export const AnnotationSource = z.enum(['human', 'model']);

/** Annotation ids are client-generated UUID strings so that undo/redo can recreate the same record. */
export const Annotation = z.object({
  id: z.string().min(1).max(64),
  imageId: z.number().int().positive(),
  classId: z.number().int().positive(),
  geometry: Geometry,
  source: AnnotationSource.default('human'),
  score: z.number().min(0).max(1).nullable().default(null),
  modelVersion: z.number().int().nullable().default(null),
  createdAt: z.number().int().nonnegative(),
  updatedAt: z.number().int().nonnegative(),
});
export type Annotation = z.infer<typeof Annotation>;

export const LabelClass = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1).max(200),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  hotkey: z.string().max(16).nullable().default(null),
  order: z.number().int(),
});
export type LabelClass = z.infer<typeof LabelClass>;

const updates = <T extends z.ZodTypeAny>(t: T) => z.array(z.object({ before: t, after: t }));

/**
 * The one way to edit labels: applied atomically in one SQLite transaction; applying returns the inverse.
 * Class edits ride along so that "delete class" (which deletes its annotations) undoes as one step.
 */
export const Changeset = z.object({
  created: z.array(Annotation).default([]),
  updated: updates(Annotation).default([]),
  deleted: z.array(Annotation).default([]),
  classes: z
    .object({
      created: z.array(LabelClass).default([]),
      updated: updates(LabelClass).default([]),
      deleted: z.array(LabelClass).default([]),
    })
    .optional(),
  /** Free text for the undo history ("draw box", "delete class cat"). */
  label: z.string().max(200).optional(),
});
export type Changeset = z.infer<typeof Changeset>;
export type ChangesetInput = z.input<typeof Changeset>;

export const ImageRecord = z.object({
  id: z.number().int().positive(),
  hash: z.string(),
  fileName: z.string(),
  path: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  orientation: z.number().int().min(1).max(8),
  split: Split,
  status: ImageStatus,
  addedAt: z.number().int(),
});
export type ImageRecord = z.infer<typeof ImageRecord>;
