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

/**
 * Per-shape flags people rely on (VOC difficult/truncated/occluded, COCO iscrowd). Only `true` flags are kept
 * (the store and the client normalise with `normalizeAnnotation`), so `{}` and absent mean the same.
 */
export const FLAG_NAMES = ['occluded', 'truncated', 'difficult', 'crowd'] as const;
export type FlagName = (typeof FLAG_NAMES)[number];
export const AnnotationFlags = z.object({
  occluded: z.boolean().optional(),
  truncated: z.boolean().optional(),
  difficult: z.boolean().optional(),
  crowd: z.boolean().optional(),
}).strict();
export type AnnotationFlags = z.infer<typeof AnnotationFlags>;

/** Attribute names as users and other tools write them ("color", "pose", "is_parked"). */
export const AttributeName = z.string().trim().min(1).max(64);
export const AttributeValue = z.union([z.boolean(), z.number().finite(), z.string().max(1000)]);
export type AttributeValue = z.infer<typeof AttributeValue>;
/** Custom per-shape attributes by name (what the class's attribute definitions describe). */
export const AnnotationAttributes = z.record(AttributeName, AttributeValue).refine((r) => Object.keys(r).length <= 64, 'at most 64 attributes per shape');
export type AnnotationAttributes = z.infer<typeof AnnotationAttributes>;

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
  /** absent = no flag set */
  flags: AnnotationFlags.optional(),
  /** absent = no attribute set */
  attributes: AnnotationAttributes.optional(),
});
export type Annotation = z.infer<typeof Annotation>;

/** The one form an annotation is stored, compared and sent in: only true flags, no empty objects. */
export function normalizeAnnotation<T extends Annotation>(a: T): T {
  const { flags, attributes, ...rest } = a;
  const out = rest as T;
  const on = flags ? FLAG_NAMES.filter((f) => flags[f]) : [];
  if (on.length) out.flags = Object.fromEntries(on.map((f) => [f, true])) as AnnotationFlags;
  if (attributes && Object.keys(attributes).length) out.attributes = attributes;
  return out;
}

/** A class's attribute definition: what the side panel offers for shapes of that class. */
export const AttributeType = z.enum(['checkbox', 'select', 'text', 'number']);
export type AttributeType = z.infer<typeof AttributeType>;
export const AttributeDef = z
  .object({
    name: AttributeName,
    type: AttributeType,
    /** the choices of a `select` */
    options: z.array(z.string().min(1).max(200)).max(200).optional(),
    default: AttributeValue.optional(),
  })
  .superRefine((d, ctx) => {
    if (d.type === 'select' && !d.options?.length) ctx.addIssue({ code: 'custom', path: ['options'], message: `attribute '${d.name}' is a select: give it at least one option` });
    if (d.default === undefined) return;
    const want = d.type === 'checkbox' ? 'boolean' : d.type === 'number' ? 'number' : 'string';
    if (typeof d.default !== want) ctx.addIssue({ code: 'custom', path: ['default'], message: `the default of attribute '${d.name}' (${d.type}) must be a ${want}` });
    else if (d.type === 'select' && !d.options?.includes(d.default as string)) ctx.addIssue({ code: 'custom', path: ['default'], message: `the default of attribute '${d.name}' must be one of its options` });
  });
export type AttributeDef = z.infer<typeof AttributeDef>;

/** Image-level tags: labels of the whole image (also the classification task's labels). */
export const TagName = z.string().trim().min(1).max(100);
export const ImageTag = z.object({ imageId: z.number().int().positive(), tag: TagName });
export type ImageTag = z.infer<typeof ImageTag>;

export const LabelClass = z.object({
  id: z.number().int().positive(),
  name: z.string().min(1).max(200),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  hotkey: z.string().max(16).nullable().default(null),
  order: z.number().int(),
  /** the custom attributes shapes of this class carry (absent = none) */
  attributes: z
    .array(AttributeDef)
    .max(64)
    .refine((defs) => new Set(defs.map((d) => d.name)).size === defs.length, 'attribute names must be unique within a class')
    .optional(),
});
export type LabelClass = z.infer<typeof LabelClass>;

/** A class without attributes has none (no empty list), so stored and sent records compare equal. */
export function normalizeClass<T extends LabelClass>(c: T): T {
  if (c.attributes && c.attributes.length) return c;
  const { attributes: _a, ...rest } = c;
  return rest as T;
}

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
  /** Image tags added and removed (undo swaps them). */
  tags: z
    .object({
      added: z.array(ImageTag).default([]),
      removed: z.array(ImageTag).default([]),
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
  /** image-level tags, sorted (absent = none) */
  tags: z.array(TagName).optional(),
});
export type ImageRecord = z.infer<typeof ImageRecord>;
