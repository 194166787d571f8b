// THE API contract: every request the renderer can make and every event it can receive.
// Transports (Electron preload/IPC in src-main/electron, HTTP+WebSocket in src-main/server) are generated
// from this table; both validate input and output with these schemas at the boundary.
// Binary media (image pyramid levels, thumbnails) is not in this table: it is fetched by URL
// (`media/image/<id>?v=<hash>&max=<px>`, `media/thumb/<id>?v=<hash>&size=<px>`, relative to the renderer's
// origin; built by media-url.ts), and so are finished exports (`download/<id>`, a zip attachment).
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
  /** the WebGPU adapter Dawn found (used when backend is 'webgpu'; a software one never is unless forced) */
  webgpu: z.object({ vendor: z.string(), architecture: z.string(), description: z.string(), software: z.boolean() }).nullable().optional(),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const ProjectInfo = z.object({
  dir: z.string(),
  name: z.string(),
  revision: z.number().int(),
  imageCount: z.number().int().nonnegative(),
  /** said once after opening: what upgrading the project changed (e.g. annotations quarantined) */
  notice: z.string().optional(),
});
export type ProjectInfo = z.infer<typeof ProjectInfo>;

export const RecentProject = z.object({ dir: z.string(), name: z.string(), openedAt: z.number().int() });
export type RecentProject = z.infer<typeof RecentProject>;

export const ImageQuery = z.object({
  status: z.enum(['unlabeled', 'labeled', 'reviewed', 'predicted']).optional(),
  split: S.Split.optional(),
  classId: z.number().int().positive().optional(),
  /** images carrying this image-level tag */
  tag: S.TagName.optional(),
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


// ---- the loop: fine-tune → predict → accept → export (issue 8) ----

/** Side-network width presets (core/model/config.ts SIDE_PRESETS has their widths and must have exactly these). */
export const SIDE_PRESET_NAMES = ['classification', 'dense', 'small', 'lite'] as const;
export type SidePresetName = (typeof SIDE_PRESET_NAMES)[number];

/** "Advanced" overrides of the automatic training plan; everything is optional. */
export const TrainOverrides = z.object({
  size: z.number().int().min(64).max(1024).multipleOf(32).optional(),
  steps: z.number().int().min(1).max(1_000_000).optional(),
  batchSize: z.number().int().min(1).max(64).optional(),
  lr: z.number().positive().max(1).optional(),
  /** an installed backbone id, or 'random' (explicitly untrained: only for the synthetic demo) */
  backbone: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be an installed backbone id or random (files come in through the backbone import, not by path)')
    .optional(),
  /** a named plan: 'tiny' (seconds; tests and the demo) or 'auto' */
  preset: z.enum(['auto', 'tiny']).optional(),
  /** 'fast': ViT once per image into the feature cache, side network + heads train; 'full': the whole HST recipe */
  mode: z.enum(['fast', 'full']).optional(),
  /** width of the heads' FPN (CPU plans use 32, native backends the heads' default 64) */
  fpnWidth: z.number().int().min(8).max(256).optional(),
  /** side-network widths by preset name (core/model/config.ts SIDE_PRESETS); CPU fast-mode plans use 'lite' */
  side: z.enum(SIDE_PRESET_NAMES).optional(),
  /** hold out this fraction of the labelled images as val (default 0.15 when the project has no val split) */
  valFraction: z.number().min(0.05).max(0.5).optional(),
  /** seed of that hold-out (a new seed re-draws it) */
  valSeed: z.number().int().min(0).max(1_000_000).optional(),
  /** false: never tile large photos (the plan shrinks them to the input size instead) */
  tiles: z.boolean().optional(),
});
export type TrainOverrides = z.infer<typeof TrainOverrides>;

export const TrainPlan = z.object({
  tasks: z.array(z.string()),
  size: z.number().int(),
  steps: z.number().int(),
  batchSize: z.number().int(),
  lr: z.number(),
  backbone: z.string(),
  /** true when the backbone is a random, untrained one (said in the UI) */
  randomBackbone: z.boolean(),
  trainImages: z.number().int(),
  valImages: z.number().int(),
  preset: z.string(),
  /** fast (cached ViT, side network + heads) or full (MetaT + LayerNorms too, ViT every step) */
  mode: z.enum(['fast', 'full']).optional(),
  /** evaluate on the val split every this many steps (0: only at the end) */
  evalEvery: z.number().int().min(0).optional(),
  fpnWidth: z.number().int().optional(),
  /** side-network preset (absent: the trainer's default, 'small') */
  side: z.enum(SIDE_PRESET_NAMES).optional(),
  /** the compute backend the plan was made for */
  backend: z.string().optional(),
  /** where the val images come from: the project's split, or a seeded hold-out the studio draws (keys: image keys) */
  val: z.object({ source: z.enum(['project', 'holdout']), fraction: z.number().nullable(), seed: z.number().int().nullable(), keys: z.array(z.string()) }).optional(),
  /** large photos with small objects: tiles (side and overlap in the photo's pixels) resized to `size` */
  tiles: z.object({ size: z.number().int(), overlap: z.number().int(), perImage: z.number() }).nullable().optional(),
  /** time estimate on this machine (basis: measured by an earlier run here, or the reference timings) */
  estimate: z.object({ seconds: z.number(), stepMs: z.number(), cacheSeconds: z.number(), evalSeconds: z.number(), basis: z.enum(['measured', 'reference']) }).optional(),
  /** why the planner chose what it chose, one sentence each */
  reasons: z.array(z.string()).optional(),
});
export type TrainPlan = z.infer<typeof TrainPlan>;

export const EvalSummary = z.object({
  boxAP: z.number().nullable(),
  boxAP50: z.number().nullable(),
  maskAP: z.number().nullable(),
  maskAP50: z.number().nullable(),
  mIoU: z.number().nullable(),
  /** per class name: box AP50 (null: class absent in val) */
  perClass: z.array(z.object({ name: z.string(), ap50: z.number().nullable(), iou: z.number().nullable() })),
  /** rows = truth, cols = prediction, class order of `labels`; last label is 'background' */
  confusion: z.object({ labels: z.array(z.string()), matrix: z.array(z.array(z.number())) }).nullable(),
  images: z.number().int(),
});
export type EvalSummary = z.infer<typeof EvalSummary>;

/** 'paused': stopped on request with a checkpoint; 'interrupted': the studio stopped while it ran (both resumable). */
export const TrainState = z.enum(['idle', 'running', 'paused', 'interrupted', 'done', 'cancelled', 'error']);
export type TrainState = z.infer<typeof TrainState>;

export const TrainStatus = z.object({
  state: TrainState,
  jobId: z.string().nullable(),
  plan: TrainPlan.nullable(),
  step: z.number().int(),
  totalSteps: z.number().int(),
  message: z.string().optional(),
  modelVersion: z.number().int().nullable(),
  /** loss curve so far (a late-joining window can draw the whole chart) */
  history: z.array(z.object({ step: z.number().int(), loss: z.number(), lr: z.number() })),
  eval: EvalSummary.nullable(),
  /** step of the newest checkpoint of this run (where a resume continues) */
  checkpointStep: z.number().int().nullable().optional(),
  /** true when `train.resume` can continue this run (paused or interrupted) */
  resumable: z.boolean().optional(),
});
export type TrainStatus = z.infer<typeof TrainStatus>;


export const ModelInfo = z.object({
  id: z.number().int(),
  name: z.string(),
  task: z.string(),
  active: z.boolean(),
  parentId: z.number().int().nullable(),
  datasetRevision: z.number().int(),
  createdAt: z.number(),
  trainableParams: z.number().int().nullable(),
  seconds: z.number().nullable(),
  backend: z.string().nullable(),
  backbone: z.string().nullable(),
  /** 'fine-tune (fast)' / 'fine-tune (full)' for a fine-tune, 'incremental' for an incremental update */
  origin: z.string(),
  eval: EvalSummary.nullable(),
  metrics: z.record(z.string(), z.unknown()),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const PredictionInfo = z.object({
  id: z.number().int(),
  imageId: z.number().int(),
  modelVersion: z.number().int(),
  classId: z.number().int(),
  geometry: S.Geometry,
  score: z.number(),
});
export type PredictionInfo = z.infer<typeof PredictionInfo>;

export const IncrementalSettingsSchema = z.object({
  enabled: z.boolean(),
  debounceMs: z.number().nonnegative(),
  mode: z.enum(['auto', 'fast', 'full']),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  lr: z.number().positive(),
  replayFraction: z.number().min(0).max(1),
  epsilon: z.number().min(0).max(1),
  flips: z.boolean(),
  seed: z.number(),
});
export type IncrementalSettingsInfo = z.infer<typeof IncrementalSettingsSchema>;

// ---- backbones (the studio's backbone manager; core/backbones) ----

export const BackboneInfo = z.object({
  id: z.string(),
  title: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  licence: z.string(),
  /** 'download' (from the catalogue) or 'import' (a user's file) */
  source: z.enum(['download', 'import']),
  embedDim: z.number().int(),
  depth: z.number().int(),
  patchSize: z.number().int(),
  isDefault: z.boolean(),
});
export type BackboneInfo = z.infer<typeof BackboneInfo>;

export const BackboneCatalogueEntry = z.object({
  id: z.string(),
  title: z.string(),
  approxBytes: z.number().int(),
  licence: z.string(),
  /** what it is good for, one sentence */
  goodFor: z.string(),
  url: z.string(),
  /** the published sha256 when known (otherwise the digest is recorded at download) */
  sha256: z.string().nullable(),
  installed: z.boolean(),
  /** bytes of an interrupted download kept for a resume (0: none) */
  partialBytes: z.number().int(),
});
export type BackboneCatalogueEntry = z.infer<typeof BackboneCatalogueEntry>;

export const EXPORT_FORMAT_NAMES = ['tfjs', 'onnx', 'safetensors', 'adapter'] as const;
export const DATASET_FORMAT_NAMES = ['coco', 'yolo', 'voc', 'labelme'] as const;

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

  /** Every image-level tag in use with its image count, most used first (tags change through annotations.apply). */
  'tags.list': m(Empty, z.object({ tags: z.array(z.object({ tag: z.string(), count: z.number().int().nonnegative() })) })),

  'annotations.list': m(z.object({ imageId: z.number().int().positive() }), z.object({ items: z.array(S.Annotation) })),
  'annotations.apply': m(z.object({ changeset: S.Changeset }), z.object({ revision: z.number().int(), inverse: S.Changeset })),

  'classes.list': m(Empty, z.object({ classes: z.array(S.LabelClass), counts: ClassCounts })),
  /** Deleting or merging a class touches annotations on many images: the core builds and applies the changeset. */
  'classes.delete': m(z.object({ classId: z.number().int().positive() }), z.object({ revision: z.number().int(), inverse: S.Changeset, affected: z.number().int() })),
  'classes.merge': m(z.object({ fromId: z.number().int().positive(), intoId: z.number().int().positive() }), z.object({ revision: z.number().int(), inverse: S.Changeset, affected: z.number().int() })),


  /** Fine-tune: no settings needed (tasks, split, size, steps, lr inferred); `advanced` overrides the plan. */
  'train.plan': m(z.object({ advanced: TrainOverrides.optional() }), TrainPlan),
  'train.start': m(z.object({ advanced: TrainOverrides.optional() }), z.object({ jobId: z.string(), plan: TrainPlan })),
  /** Cancel the running fine-tune, or discard a paused/interrupted one. */
  'train.cancel': m(Empty, Ok),
  /** Stop after the current step and write a checkpoint; `train.resume` continues exactly from it. */
  'train.pause': m(Empty, Ok),
  /** Continue a paused run, or one interrupted by a crash / app restart, from its last checkpoint. */
  'train.resume': m(Empty, z.object({ jobId: z.string(), plan: TrainPlan, fromStep: z.number().int() })),
  'train.status': m(Empty, TrainStatus),

  'models.list': m(Empty, z.object({ items: z.array(ModelInfo) })),
  'models.get': m(z.object({ id: z.number().int().positive() }), ModelInfo),
  'models.setActive': m(z.object({ id: z.number().int().positive() }), Ok),
  'models.delete': m(z.object({ id: z.number().int().positive() }), Ok),
  'models.compare': m(z.object({ a: z.number().int().positive(), b: z.number().int().positive() }), z.object({ a: ModelInfo, b: ModelInfo, rows: z.array(z.object({ metric: z.string(), a: z.number().nullable(), b: z.number().nullable() })) })),

  /** Predict with the active model; progress as job.* events (kind 'predict'); cancel with jobs.cancel. */
  'predict.run': m(z.object({ split: z.enum(['unlabeled', 'val', 'all']).optional(), scoreThreshold: z.number().min(0).max(1).optional() }), JobStarted),
  'predictions.list': m(z.object({ imageId: z.number().int().positive() }), z.object({ items: z.array(PredictionInfo) })),
  /** Accepting turns predictions into human annotations in ONE changeset (undoable like any other). */
  'predictions.accept': m(z.object({ ids: z.array(z.number().int().positive()).min(1) }), z.object({ revision: z.number().int(), inverse: S.Changeset, created: z.array(S.Annotation) })),
  'predictions.reject': m(z.object({ ids: z.array(z.number().int().positive()).min(1) }), z.object({ removed: z.number().int() })),
  /** "Label next": unlabeled image ids, most informative first (by the active model's stored predictions). */
  'al.queue': m(z.object({ limit: z.number().int().positive().max(10_000).optional() }), z.object({ items: z.array(z.object({ imageId: z.number().int(), score: z.number() })), modelVersion: z.number().int().nullable() })),

  /** Export a model version (default: active) to `out` (a folder or file path on the core's machine). */
  'export.run': m(z.object({ format: z.enum(EXPORT_FORMAT_NAMES), out: z.string().min(1), version: z.number().int().positive().optional() }), JobStarted),
  /** Write a training bundle for the PyTorch trainer (torchrun) to the new folder `out`, starting from a model version (default: active). */
  'export.training': m(z.object({ out: z.string().min(1), version: z.number().int().positive().optional() }), JobStarted),
  /** Import a .safetensors file written by the PyTorch trainer as a model version (checked, evaluated on val). */
  'models.import': m(z.object({ path: z.string().min(1) }), JobStarted),

  /**
   * Export the project's labels as a dataset. With `out`, written to that folder on the core's machine; without,
   * zipped for download: the job's `job.done` carries `download` (GET download/<id>: a browser download in
   * server mode, the save dialog in Electron).
   */
  'export.dataset': m(z.object({ format: z.enum(DATASET_FORMAT_NAMES), splits: z.array(S.Split).min(1).optional(), out: z.string().min(1).optional() }), JobStarted),
  /** Export a model version (default: active) zipped for download, like export.dataset without `out`. */
  'export.modelDownload': m(z.object({ format: z.enum(EXPORT_FORMAT_NAMES), version: z.number().int().positive().optional() }), JobStarted),

  'incremental.settings': m(z.object({ set: IncrementalSettingsSchema.partial().optional() }), IncrementalSettingsSchema),

  /** Installed backbones, the catalogue (with resumable partial downloads), the default, and the one recommended for this machine. */
  'backbones.list': m(Empty, z.object({ installed: z.array(BackboneInfo), catalogue: z.array(BackboneCatalogueEntry), default: z.string().nullable(), recommended: z.string(), dir: z.string() })),
  /** Download (or resume) a catalogue backbone as a job (kind 'backbone'): progress as job.progress, cancel with jobs.cancel (the partial file is kept). */
  'backbones.download': m(z.object({ id: z.string().min(1).max(100) }), JobStarted),
  /** Install a ViT .safetensors file from a path on the core's machine (server mode uploads go to POST /upload/backbone). */
  'backbones.import': m(z.object({ path: z.string().min(1), id: z.string().min(1).max(80).optional() }), BackboneInfo),
  'backbones.remove': m(z.object({ id: z.string().min(1).max(100) }), Ok),
  /** The backbone a fine-tune uses when none is chosen under Advanced. */
  'backbones.setDefault': m(z.object({ id: z.string().min(1).max(100) }), Ok),

  /** Cancelling a job that already finished answers ok (nothing left to stop); an unknown id is 404. */
  'jobs.cancel': m(JobStarted, Ok),
  /** A job's state, for a client that may have missed its events (a job can end before its start call returns). */
  'jobs.get': m(JobStarted, z.object({ state: z.enum(['running', 'done']), kind: z.string(), done: z.lazy(() => events['job.done']).optional() })),
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
    /** export jobs made for download: fetch `download/<id>` (a zip named `name`) */
    download: z.object({ id: z.string().regex(/^[a-f0-9]{32}$/), name: z.string(), bytes: z.number().int().nonnegative() }).optional(),
  }),

  /** Fine-tune progress, one per reported step. */
  'train.progress': z.object({
    jobId: z.string(), step: z.number().int(), totalSteps: z.number().int(), loss: z.number(), lr: z.number(),
    parts: z.record(z.string(), z.number()), imagesPerSec: z.number(), etaSec: z.number(), message: z.string().optional(),
    /** GPU memory the webgpu backend holds (bytes), on a GPU only */
    gpuBytes: z.number().optional(),
  }),
  /** The fine-tune's state changed (running, paused, interrupted, done, cancelled, error). */
  'train.state': z.object({
    jobId: z.string().nullable(), state: TrainState, step: z.number().int(), totalSteps: z.number().int(),
    checkpointStep: z.number().int().nullable(), message: z.string().optional(),
  }),
  /** Evaluation on the fixed val split after a run. */
  'train.eval': z.object({ jobId: z.string(), modelVersion: z.number().int().nullable(), eval: EvalSummary }),
  /** Incremental side-tuning: scheduled → started → done (promoted or candidate, and why) | skipped | error. */
  'incremental.update': z.object({
    state: z.enum(['scheduled', 'started', 'done', 'skipped', 'cancelled', 'error']),
    mode: z.enum(['fast', 'full']).optional(),
    promoted: z.boolean().optional(),
    versionId: z.number().int().optional(),
    seconds: z.number().optional(),
    message: z.string(),
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
