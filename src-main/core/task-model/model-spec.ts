// What a saved task model is: the HST config (authors' keys), the head settings, the class order, the input
// size and normalisation, and where the backbone came from. Saved as `<name>.json` next to `<name>.safetensors`.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolveHstConfig, type HstConfigInput } from '../model/config';
import { HstModel, type BackboneSource } from '../model/hst';
import { configToJson } from '../model/weights';
import { readSafetensors, writeSafetensors, type StTensor } from '../io/safetensors';
import type { Normalisation } from '../data/types';
import { TaskModel, type HeadSettings } from './task-model';

export interface TaskModelSpec {
  format: 'hst-studio-task-model';
  version: 1;
  hst: HstConfigInput;
  heads: HeadSettings;
  classes: string[];
  /** square network input side */
  inputSize: number;
  norm: Normalisation;
  backbone: BackboneSource;
  seed: number;
  /**
   * Trained on tiles of large photos (training/tiles.ts): each photo is cut into tiles of `size` photo pixels
   * overlapping by `overlap`, each tile resized to `inputSize`; prediction must cut the same way and merge the
   * tiles' detections. Absent or null: the whole image is resized to `inputSize`.
   */
  tiles?: { size: number; overlap: number } | null;
}

export function buildTaskModel(spec: TaskModelSpec, hst?: HstModel): TaskModel {
  const cfg = resolveHstConfig({ ...spec.hst, num_classes: 0 }, 'task model config');
  const model = hst ?? new HstModel(cfg, { backbone: spec.backbone.kind === 'random' ? 'random' : 'pending', seed: spec.seed });
  return new TaskModel(model, spec.heads, spec.seed);
}

export function specPath(weights: string): string {
  return weights.replace(/\.safetensors$/i, '') + '.json';
}

export async function saveTaskModel(model: TaskModel, spec: TaskModelSpec, weightsPath: string): Promise<{ weights: string; spec: string }> {
  const full: TaskModelSpec = { ...spec, hst: configToJson(model.hst.config) as HstConfigInput, backbone: model.hst.backboneSource };
  await writeSafetensors(weightsPath, model.exportTensors(), {
    format: 'pt',
    layout: 'PyTorch state_dict: Linear (out,in), Conv (out,in,kh,kw)',
    task_model: JSON.stringify(full),
  });
  await writeFile(specPath(weightsPath), JSON.stringify(full, null, 1));
  return { weights: weightsPath, spec: specPath(weightsPath) };
}

export async function loadTaskModel(weightsPath: string): Promise<{ model: TaskModel; spec: TaskModelSpec }> {
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath}: model file not found`);
  const file = await readSafetensors(weightsPath);
  let spec: TaskModelSpec;
  if (existsSync(specPath(weightsPath))) spec = JSON.parse(await readFile(specPath(weightsPath), 'utf8')) as TaskModelSpec;
  else if (file.metadata.task_model) spec = JSON.parse(file.metadata.task_model) as TaskModelSpec;
  else throw new Error(`${weightsPath}: no ${specPath(weightsPath)} and no task_model metadata: not an HST Studio task model`);
  if (spec.format !== 'hst-studio-task-model') throw new Error(`${specPath(weightsPath)}: not an HST Studio task model spec`);
  const model = taskModelFromState(spec, file.tensors, weightsPath, specPath(weightsPath));
  model.hst.backboneSource = spec.backbone.kind === 'random' ? spec.backbone : spec.backbone.kind === 'pretrained' ? spec.backbone : { kind: 'checkpoint', file: weightsPath };
  return { model, spec };
}

/**
 * A task model built from its spec (HST config, heads, seed) and a whole saved state (exportTensors' names);
 * `source` names the state in errors. Its backbone source says 'checkpoint' (`source`).
 */
export function taskModelFromState(spec: Pick<TaskModelSpec, 'hst' | 'heads' | 'seed'>, tensors: Map<string, StTensor>, source: string, configSource = source): TaskModel {
  const cfg = resolveHstConfig({ ...spec.hst, num_classes: 0 }, configSource);
  const hst = new HstModel(cfg, { backbone: 'pending', seed: spec.seed });
  const model = new TaskModel(hst, spec.heads, spec.seed);
  try {
    model.importTensors(tensors, source);
  } catch (err) {
    model.dispose();
    throw err;
  }
  hst.backboneSource = { kind: 'checkpoint', file: source };
  return model;
}
