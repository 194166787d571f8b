export { evaluateCoco, formatCocoSummary, SUMMARY_KEYS } from './coco-eval';
export type { CocoGroundTruth, CocoDetection, CocoEvalOptions, CocoEvalResult, CocoSummary, CocoClassResult, IouType, Xywh } from './coco-eval';
export { defaultCocoParams, linspace, type CocoParams } from './coco-params';
export { SemanticConfusion, evaluateSemantic, type SemanticMetrics } from './semantic-eval';
export { evaluateClassification, type ClassificationMetrics, type ClassMetrics } from './classify-eval';
export { evaluateInstances, type EvalImage, type EvalObject, type EvalPrediction, type InstanceEvalResult } from './instance-eval';
export { labelMapFromMasks, type LabelledMask } from './semantic-labels';
