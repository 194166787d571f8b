// The contract between the data pipeline (core/data/) and the trainer (training/): what one decoded,
// resized, augmented sample looks like. Everything is plain typed arrays so samples cross worker_threads cheaply.

/** How the original image was mapped into the H×W network input (letterbox: uniform scale, then pad). */
export interface SampleTransform {
  origW: number;
  origH: number;
  /** input_px = orig_px · scale + pad (after an optional horizontal flip of the original) */
  scale: number;
  padX: number;
  padY: number;
  flipped: boolean;
}

export interface SampleTargets {
  /** [n*4] x1,y1,x2,y2 in input pixels, after letterbox and augmentation; degenerate boxes already removed */
  boxes: Float32Array;
  /** [n] training class index 0..K−1 (index into TrainClasses.names, not the store's class id) */
  labels: Int32Array;
  /** per instance: binary mask [H*W] at input resolution (row-major), or null for box-only instances */
  masks: (Uint8Array | null)[];
  /** [H*W] semantic label map: 0 background, k+1 for class k, 255 ignore (box-only areas); null if no masks */
  semantic: Uint8Array | null;
  /** image-level class index for classification, or −1 */
  imageClass: number;
}

export interface Sample {
  imageId: number;
  /** the dataset image key (store image id as string, or the importer's key) */
  key: string;
  height: number;
  width: number;
  /** [H*W*3] RGB, normalised: (x/255 − mean) / std */
  image: Float32Array;
  targets: SampleTargets;
  transform: SampleTransform;
  /** problems met while building the sample (skipped annotations), each naming the image and annotation */
  warnings: string[];
}

export interface TrainClasses {
  /** training index → class name; the order is fixed per model version and saved in its metadata */
  names: string[];
}

export interface Normalisation {
  mean: [number, number, number];
  std: [number, number, number];
}

/** AugReg / in21k ViTs (the spec's default backbone): mean = std = 0.5. */
export const VIT_AUGREG_NORM: Normalisation = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

export interface AugmentOptions {
  hflip: number; // probability
  scaleJitter: [number, number]; // multiplicative range on the letterbox scale, e.g. [0.75, 1.25]
  colorJitter: number; // brightness/contrast/saturation amplitude, e.g. 0.2
}
