// Public surface of the HST model for the rest of the app (heads, trainer, feature cache, export).
export { HstModel, createRandomHst, type HstOutput, type VitOutput, type SideOutput, type BackboneSource, type ForwardOptions } from './hst';
export { resolveHstConfig, presetConfig, HstConfigSchema, SIDE_PRESETS, BACKBONE_SHAPES, type HstConfig, type HstConfigInput, type ResolvedHstConfig, type SidePreset, type BackboneShape } from './config';
export { exportState, loadState, saveHstCheckpoint, loadHstCheckpoint, readConfigFile, configToJson, sidecarConfigPath } from './weights';
export { loadBackbone, readBackboneFile } from './backbone-load';
export { isTrainableName } from './trainable';
export { resamplePosEmbed } from './pos-embed-interp';
