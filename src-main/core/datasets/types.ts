// The neutral, format-independent dataset that every importer produces and every exporter consumes.
// Importers never touch the store; the store ingests a Dataset in one transaction (all or nothing).
import type { AnnotationAttributes, AttributeDef, Geometry, Split } from '../../contract/schemas';

export interface DatasetImage {
  /** Unique within the dataset (importer's own key: COCO image id, relative path, …). */
  key: string;
  /** Path relative to the dataset root, as written in the source ("images/train/a b.jpg"). */
  fileName: string;
  /** Absolute path of the file, already checked to lie inside the dataset root; null if the file is missing. */
  absPath: string | null;
  /** The image's bytes when the source embeds them (LabelMe imageData) instead of naming a file. */
  data?: Buffer;
  /** Dimensions as declared by the source (0 if unknown); the store verifies them against the decoded file. */
  width: number;
  height: number;
  split?: Split;
  /** image-level tags (LabelMe image `flags` that are true; our own exports) */
  tags?: string[];
  /**
   * Only this region of the (EXIF-oriented) file is the image: a tile of a large photo (training/tiles.ts).
   * width/height are then the region's, and the annotations are in the region's pixels.
   */
  crop?: { x: number; y: number; w: number; h: number };
}

export interface DatasetClass {
  name: string;
  color?: string;
  /** The id the source format used (COCO category id, YOLO index) — for round trips. */
  sourceId?: number;
  /** attribute definitions; when absent, an import infers them from the values its annotations carry */
  attributes?: AttributeDef[];
}

export interface DatasetAnnotation {
  imageKey: string;
  className: string;
  geometry: Geometry;
  iscrowd?: boolean;
  /** VOC difficult/truncated/occluded, CVAT's `occluded` (the crowd flag is `iscrowd`) */
  flags?: { occluded?: boolean; truncated?: boolean; difficult?: boolean };
  /** custom attributes (CVAT COCO/VOC attributes, LabelMe shape flags other than the named ones) */
  attributes?: AnnotationAttributes;
  score?: number;
  /** The id the source format used (COCO annotation id) — for round trips and error messages. */
  sourceId?: number | string;
}

export interface DatasetIssue {
  level: 'error' | 'warning';
  /** File the problem is in, relative to the dataset root where possible. */
  file: string;
  /** Record within that file: "annotations[12] (id 345)", "line 7", … */
  record?: string;
  message: string;
}

export interface Dataset {
  images: DatasetImage[];
  classes: DatasetClass[];
  annotations: DatasetAnnotation[];
  /** Errors make the import fail as a whole (nothing is written); warnings are shown and the rest imported. */
  issues: DatasetIssue[];
}

export type DatasetFormat = 'coco' | 'yolo' | 'voc' | 'labelme' | 'images';
