// The project store's public surface. Implemented in project.ts (better-sqlite3); used by the CLI, the server,
// Electron IPC, the trainer and the dataset importers. Keep signatures stable; add, don't change.
import type { Annotation, Changeset, ChangesetInput, ImageRecord, ImageStatus, LabelClass, Split } from '../../contract/schemas';
import type { Dataset } from '../datasets/types';

export interface ImageQuery {
  status?: ImageStatus | 'predicted';
  split?: Split;
  classId?: number;
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
  importDataset(ds: Dataset, opts?: IngestOptions): Promise<{ images: number; annotations: number; classes: number; warnings: string[] }>;
  /** The whole project (or some splits) as a neutral dataset, for exporters and the trainer. */
  toDataset(opts?: { splits?: Split[] }): Dataset;

  /** JPEG/WebP thumbnail bytes (cached on disk), longest side `size`. */
  thumbnail(imageId: number, size?: number): Promise<Buffer>;
}
