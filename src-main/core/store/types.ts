// The project store's public surface. Implemented in project.ts (better-sqlite3); used by the CLI, the server,
// Electron IPC, the trainer and the dataset importers. Keep signatures stable; add, don't change.
import type { Annotation, Changeset, ChangesetInput, ImageRecord, ImageStatus, LabelClass, Split } from '../../contract/schemas';
import type { Dataset } from '../datasets/types';
import type { FeatureCacheIndex } from './feature-cache';
import type { ModelVersion, NewModelVersion, RunEvent, RunStatus, TrainingRun } from './models';
import type { NewPrediction, Prediction } from './predictions';

export interface ImageQuery {
  status?: ImageStatus | 'predicted';
  split?: Split;
  classId?: number;
  /** images carrying this image-level tag */
  tag?: string;
  /** Sort key; default 'id'. */
  sort?: 'id' | 'fileName' | 'addedAt';
  offset?: number;
  limit?: number;
}

export interface ApplyResult {
  revision: number;
  /** Applying `inverse` undoes the changeset exactly. */
  inverse: Changeset;
}

export interface IngestProgress {
  done: number;
  total: number;
  current?: string;
}

export interface IngestOptions {
  /** copy into media/ (content-addressed, default) or reference the file in place */
  mode?: 'copy' | 'link';
  signal?: AbortSignal;
  onProgress?: (p: IngestProgress) => void;
}

export interface IngestReport {
  added: ImageRecord[];
  skipped: { path: string; reason: string }[];
  /** true when the signal aborted the import: `added` holds what was imported before that */
  cancelled?: boolean;
}

export interface ImageCounts {
  all: number;
  unlabeled: number;
  labeled: number;
  reviewed: number;
  /** images with at least one stored prediction */
  predicted: number;
}

export interface ClassEditResult extends ApplyResult {
  /** annotations changed or deleted */
  affected: number;
}

export interface ProjectStore {
  readonly dir: string;
  readonly name: string;
  close(): void;

  revision(): number;
  listClasses(): LabelClass[];
  listImages(q?: ImageQuery): { total: number; items: ImageRecord[] };
  getImage(id: number): ImageRecord | null;
  /** Absolute path of the image file, checked to be inside the project (or a linked original). */
  imagePath(id: number): string;
  annotationsOf(imageId: number): Annotation[];
  /** counts per class id over all annotations */
  classCounts(): Record<number, number>;

  /** The one way to edit labels/classes: one transaction, bumps the revision, returns the inverse. */
  apply(cs: ChangesetInput): ApplyResult;

  setSplit(imageIds: number[], split: Split): void;
  setStatus(imageIds: number[], status: ImageStatus): void;

  /** Decode + validate + hash + thumbnail files/folders (recursive); bad files are skipped with a reason. */
  ingest(paths: string[], opts?: IngestOptions): Promise<IngestReport>;
  /** Import a neutral dataset (from datasets/*-import.ts) in one transaction; throws if it has errors. */
  importDataset(ds: Dataset, opts?: IngestOptions & { strict?: boolean; replace?: boolean }): Promise<{ images: number; annotations: number; classes: number; warnings: string[]; issues?: import('../datasets/types').DatasetIssue[]; skippedImages?: number; unchanged?: boolean }>;
  /** The whole project (or some splits) as a neutral dataset, for exporters and the trainer. */
  toDataset(opts?: { splits?: Split[] }): Dataset;

  /** JPEG/WebP thumbnail bytes (cached on disk), longest side `size`. */
  thumbnail(imageId: number, size?: number): Promise<Buffer>;
}

/**
 * What the SQLite store offers beyond ProjectStore (kept separate so test fakes of ProjectStore stay valid).
 * `openProject`/`createProject` return a `FullProjectStore`.
 */
export interface ProjectStoreExtras {
  /** Ids in query order (offset/limit ignored): the editor's next/previous list. */
  imageIds(q?: ImageQuery): number[];
  imageCounts(): ImageCounts;
  /** Deletes a class and all its annotations as one changeset (undoable via `inverse`). */
  deleteClass(classId: number): ClassEditResult;
  /** Moves every annotation of `fromId` to `intoId` and deletes `fromId`, as one changeset. */
  mergeClasses(fromId: number, intoId: number): ClassEditResult;
  /** The changeset deleteClass applies, without applying it. */
  deleteClassChangeset(classId: number): Changeset;
  /** Every image-level tag in use with its image count, most used first. */
  tagCounts(): { tag: string; count: number }[];
  /** Free-form project settings (JSON), merged on write; `null` removes a key. */
  settings(): Record<string, unknown>;
  setSettings(patch: Record<string, unknown>): Record<string, unknown>;

  addModelVersion(m: NewModelVersion): ModelVersion;
  getModelVersion(id: number): ModelVersion | null;
  listModelVersions(task?: string): ModelVersion[];
  activeModel(task: string): ModelVersion | null;
  setActiveModel(id: number): void;
  /** Deletes an inactive model version (throws for the active one); returns what was deleted (its files are the caller's). */
  deleteModelVersion(id: number): ModelVersion;
  updateModelVersion(id: number, patch: { metrics?: Record<string, unknown>; files?: string[]; name?: string }): ModelVersion;

  addTrainingRun(r: { config: unknown; modelVersion?: number | null }): TrainingRun;
  finishTrainingRun(id: number, end: { status: Exclude<RunStatus, 'running'>; error?: string; modelVersion?: number | null }): TrainingRun;
  listTrainingRuns(): TrainingRun[];
  appendRunEvent(runId: number, kind: string, data: unknown): number;
  runEvents(runId: number, afterId?: number): RunEvent[];

  /** Replaces one model's predictions on one image. */
  putPredictions(imageId: number, modelVersion: number, preds: NewPrediction[]): void;
  listPredictions(imageId: number, modelVersion?: number): Prediction[];
  clearPredictions(modelVersion?: number): number;
  /** Deletes predictions by id, leaving the others' ids unchanged. */
  deletePredictions(ids: readonly number[]): number;

  /** Index of cached backbone features (files under cache/features/). */
  readonly featureCache: FeatureCacheIndex;
}

export type FullProjectStore = ProjectStore & ProjectStoreExtras;
