// THE API contract: every request the renderer can make and every event it can receive.
// Transports (Electron preload/IPC in src-main/electron, HTTP+WebSocket in src-main/server) are generated
// from this table; both validate input and output with these schemas at the boundary.
// Binary media (image pyramid levels, thumbnails) is not in this table: it is fetched by URL
// (`media/image/<id>?max=<px>`, `media/thumb/<id>?size=<px>`, relative to the renderer's origin).
import { z } from 'zod';
import * as S from './schemas';

export interface MethodDef<I extends z.ZodTypeAny = z.ZodTypeAny, O extends z.ZodTypeAny = z.ZodTypeAny> {
  input: I;
  output: O;
}
const m = <I extends z.ZodTypeAny, O extends z.ZodTypeAny>(input: I, output: O): MethodDef<I, O> => ({ input, output });

export const DoctorReport = z.object({
  backend: z.string(),
  threads: z.number().int(),
  tfjsVersion: z.string(),
  extraKernels: z.array(z.string()),
  notes: z.array(z.string()),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const ProjectInfo = z.object({
  dir: z.string(),
  name: z.string(),
  revision: z.number().int(),
  imageCount: z.number().int().nonnegative(),
});
export type ProjectInfo = z.infer<typeof ProjectInfo>;

export const RecentProject = z.object({ dir: z.string(), name: z.string(), openedAt: z.number().int() });
export type RecentProject = z.infer<typeof RecentProject>;

export const ImageQuery = z.object({
  status: z.enum(['unlabeled', 'labeled', 'reviewed', 'predicted']).optional(),
  split: S.Split.optional(),
  classId: z.number().int().positive().optional(),
  sort: z.enum(['id', 'fileName', 'addedAt']).optional(),
  offset: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().max(10_000).optional(),
});
export type ImageQuery = z.infer<typeof ImageQuery>;

/** Per-status counts for the gallery's filter chips. */
export const ImageCounts = z.object({
  all: z.number().int(),
  unlabeled: z.number().int(),
  labeled: z.number().int(),
  reviewed: z.number().int(),
  predicted: z.number().int(),
});

const ClassCounts = z.record(z.string(), z.number().int());
const JobStarted = z.object({ jobId: z.string() });
const Empty = z.object({});
const Ok = z.object({ ok: z.literal(true) });

/** Method names are `area.verb`; they are also the IPC channel names and the HTTP paths (/api/area.verb). */
export const methods = {
  'app.doctor': m(Empty, DoctorReport),
  /** What the shell needs at start: which project is open, the recent list, which transport serves us. */
  'app.info': m(Empty, z.object({ version: z.string(), mode: z.enum(['server', 'electron']), project: ProjectInfo.nullable(), recent: z.array(RecentProject) })),

  'project.create': m(z.object({ dir: z.string().min(1), name: z.string().min(1).max(200).optional(), demo: z.boolean().optional() }), ProjectInfo),
  'project.open': m(z.object({ dir: z.string().min(1) }), ProjectInfo),
  'project.close': m(Empty, Ok),
  'project.info': m(Empty, ProjectInfo),

  'images.list': m(ImageQuery, z.object({ total: z.number().int(), items: z.array(S.ImageRecord) })),
  /** Just the ids in query order: the editor's next/previous walks this list (cheap for 10,000 images). */
  'images.ids': m(ImageQuery.omit({ offset: true, limit: true }), z.object({ ids: z.array(z.number().int()) })),
  'images.get': m(z.object({ id: z.number().int().positive() }), S.ImageRecord),
  'images.counts': m(Empty, ImageCounts),
  'images.setSplit': m(z.object({ ids: z.array(z.number().int().positive()).min(1), split: S.Split }), Ok),
  'images.setStatus': m(z.object({ ids: z.array(z.number().int().positive()).min(1), status: S.ImageStatus }), Ok),
  /** Import files/folders by path (on the machine running the core); progress arrives as job.* events. */
  'images.import': m(z.object({ paths: z.array(z.string().min(1)).min(1), mode: z.enum(['copy', 'link']).optional() }), JobStarted),

  /** Import a labelled dataset (COCO JSON, YOLO, Pascal VOC, LabelMe folder) as one job; format detected when omitted. */
  'datasets.import': m(z.object({ path: z.string().min(1), format: z.enum(['coco', 'yolo', 'voc', 'labelme']).optional() }), JobStarted),

  'annotations.list': m(z.object({ imageId: z.number().int().positive() }), z.object({ items: z.array(S.Annotation) })),
  'annotations.apply': m(z.object({ changeset: S.Changeset }), z.object({ revision: z.number().int(), inverse: S.Changeset })),

  'classes.list': m(Empty, z.object({ classes: z.array(S.LabelClass), counts: ClassCounts })),
  /** Deleting or merging a class touches annotations on many images: the core builds and applies the changeset. */
  'classes.delete': m(z.object({ classId: z.number().int().positive() }), z.object({ revision: z.number().int(), inverse: S.Changeset, affected: z.number().int() })),
  'classes.merge': m(z.object({ fromId: z.number().int().positive(), intoId: z.number().int().positive() }), z.object({ revision: z.number().int(), inverse: S.Changeset, affected: z.number().int() })),

  'jobs.cancel': m(JobStarted, Ok),
} as const satisfies Record<string, MethodDef>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<K extends MethodName> = z.input<Methods[K]['input']>;
export type MethodOutput<K extends MethodName> = z.output<Methods[K]['output']>;

/** Server → renderer events (WebSocket messages / webContents.send). */
export const events = {
  'job.progress': z.object({ jobId: z.string(), kind: z.string(), fraction: z.number().min(0).max(1), message: z.string().optional() }),
  'job.done': z.object({
    jobId: z.string(),
    kind: z.string(),
    status: z.enum(['ok', 'cancelled', 'error']),
    message: z.string().optional(),
    /** import jobs: counts and the skipped files with reasons */
    added: z.number().int().optional(),
    skipped: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
  }),
  /** Labels changed (by any client): lets other windows refresh. */
  'project.changed': z.object({ revision: z.number().int() }),
} as const;
export type EventName = keyof typeof events;
export type EventPayload<K extends EventName> = z.infer<(typeof events)[K]>;

/** The renderer-side shape of the API: one named async function per method. */
export type StudioApi = { [K in MethodName]: (input: MethodInput<K>) => Promise<MethodOutput<K>> };

/** Everything the Electron preload exposes as `window.hst` (and the HTTP client mirrors). */
export interface StudioBridge {
  api: StudioApi;
  on<K extends EventName>(event: K, cb: (payload: EventPayload<K>) => void): () => void;
}
