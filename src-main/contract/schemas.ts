// Domain shapes shared by core, server, Electron preload and renderer. Every payload that crosses a
// process or network boundary is validated against these zod schemas; core code uses the inferred types.
import { z } from 'zod';

export const Split = z.enum(['train', 'val', 'test']);
export type Split = z.infer<typeof Split>;

export const ImageStatus = z.enum(['unlabeled', 'labeled', 'reviewed']);
export type ImageStatus = z.infer<typeof ImageStatus>;

/**
 * Size limits far above any real annotation (core/geometry/validate.ts checks the same numbers against the image,
 * and also clips, refuses what lies outside and decodes masks). Here they stop a huge payload before the core
 * sees it; every message says the limit.
 */
export const LIMITS = {
  maxRings: 1_000,
  maxPolygonCoords: 200_000,
  maxRleChars: 1_000_000,
  maxRleSide: 100_000,
  maxCoord: 1_000_000,
  /** annotations (or class edits) per list in one changeset */
  maxChangesetItems: 100_000,
} as const;

const coord = () => z.number().finite().min(-LIMITS.maxCoord).max(LIMITS.maxCoord);

/** COCO RLE, always stored in compressed (string) form; `size` is [height, width] as in pycocotools. */
export const Rle = z.object({
  size: z.tuple([z.number().int().nonnegative().max(LIMITS.maxRleSide), z.number().int().nonnegative().max(LIMITS.maxRleSide)]),
  counts: z.string().max(LIMITS.maxRleChars, `a mask's RLE is limited to ${LIMITS.maxRleChars} characters`),
});
export type Rle = z.infer<typeof Rle>;

/** Boxes are x,y,w,h in image pixels (top-left origin, EXIF-oriented image). */
export const BoxGeometry = z.object({
  kind: z.literal('box'),
  x: coord(),
  y: coord(),
  w: coord().nonnegative(),
  h: coord().nonnegative(),
});
/** Polygons: one or more rings, each a flat list [x1,y1,x2,y2,...] of at least 3 points. */
export const PolygonGeometry = z.object({
  kind: z.literal('polygon'),
  rings: z
    .array(
      z
        .array(coord())
        .min(6, 'a polygon ring needs at least 3 points (6 numbers)')
        .max(LIMITS.maxPolygonCoords, `a polygon is limited to ${LIMITS.maxPolygonCoords} coordinates`)
        .refine((r) => r.length % 2 === 0, 'a polygon ring needs an even count of numbers (x,y pairs)'),
    )
    .min(1)
    .max(LIMITS.maxRings, `a polygon is limited to ${LIMITS.maxRings} rings`),
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

const items = <T extends z.ZodTypeAny>(t: T) => z.array(t).max(LIMITS.maxChangesetItems, `a changeset is limited to ${LIMITS.maxChangesetItems} items per list`);
const updates = <T extends z.ZodTypeAny>(t: T) => items(z.object({ before: t, after: t }));

/**
 * The one way to edit labels: applied atomically in one SQLite transaction; applying returns the inverse.
 * Class edits ride along so that "delete class" (which deletes its annotations) undoes as one step.
 */
export const Changeset = z.object({
  created: items(Annotation).default([]),
  updated: updates(Annotation).default([]),
  deleted: items(Annotation).default([]),
  classes: z
    .object({
      created: items(LabelClass).default([]),
      updated: updates(LabelClass).default([]),
      deleted: items(LabelClass).default([]),
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
