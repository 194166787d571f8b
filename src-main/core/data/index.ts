export * from './types';
export { Rng, type RngState } from './rng';
export { decodeImage, ImageDecodeError, type DecodedImage, type DecodeOptions } from './decode';
export {
  parseSize,
  letterboxTransform,
  boxToInput,
  boxToOriginal,
  boxesToOriginal,
  pointToInput,
  pointToOriginal,
  maskToOriginal,
  type InputSize,
  type PlaceOptions,
} from './letterbox';
export { DRAWS_PER_SAMPLE, augmentParams, type AugmentParams } from './augment';
export { createDataPipeline, prepareInput, type DataPipeline, type DataPipelineOptions, type FailedImage, type ImageClassRule } from './pipeline';
