// Official PyTorch state_dict names ↔ model variables. Checkpoints are safetensors with the authors' names and
// layouts (Linear (out,in), Conv (out,in,kh,kw)) plus a JSON config in the authors' constructor names, so a
// checkpoint from their code loads here and ours loads there.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tf } from '../compute/engine';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors, type StTensor } from '../io/safetensors';
import { resolveHstConfig, type ResolvedHstConfig } from './config';
import { HstModel, type BackboneSource } from './hst';
import type { ParamEntry, ParamStore } from './params';
import { fromTorchValues, toTorchValues } from '../io/torch-layout';

/** PyTorch bookkeeping buffers we neither need nor write (PyTorch fills them in when absent). */
const IGNORABLE = (name: string) => name.endsWith('num_batches_tracked');

function toTorch(e: ParamEntry): Float32Array {
  return toTorchValues(Float32Array.from(e.variable.dataSync() as Float32Array), e.variable.shape, e.layout);
}

function fromTorch(e: ParamEntry, values: Float32Array): tf.Tensor {
  return tf.tensor(fromTorchValues(values, e.variable.shape, e.layout), e.variable.shape, 'float32');
}

/** The model's state in PyTorch names and layouts (float32). */
export function exportState(model: HstModel, filter: (e: ParamEntry) => boolean = () => true): Map<string, StTensor> {
  const out = new Map<string, StTensor>();
  for (const e of model.store.entries.values()) if (filter(e)) out.set(e.name, f32Tensor(toTorch(e), e.torchShape));
  return out;
}

export interface LoadOptions {
  /** names a message should use for the source (file path) */
  source?: string;
  /** which variables to fill: everything (checkpoint) or only the ViT backbone */
  only?: 'all' | 'backbone';
  /** allow names the model does not have (e.g. a backbone checkpoint's own head); default false for 'all' */
  allowUnexpected?: boolean;
}

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Copies tensors into the model's variables. Every problem is an error naming the tensor: a missing name,
 * a shape that differs from the model's, a name the model does not know (unless allowed). Nothing is assigned
 * unless everything checks out.
 */
export function loadState(model: HstModel, tensors: Map<string, StTensor>, opts: LoadOptions = {}): void {
  loadStore(model.store, tensors, opts);
}

/** loadState for any parameter store (e.g. a bare ViT). */
export function loadStore(store: ParamStore, tensors: Map<string, StTensor>, opts: LoadOptions = {}): void {
  const src = opts.source ?? 'checkpoint';
  const only = opts.only ?? 'all';
  const wanted = [...store.entries.values()].filter((e) => only === 'all' || e.backbone);
  const missing = wanted.filter((e) => !tensors.has(e.name)).map((e) => e.name);
  if (missing.length) {
    throw new Error(`${src}: missing ${missing.length} tensor${missing.length > 1 ? 's' : ''} the model needs: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}`);
  }
  if (!(opts.allowUnexpected ?? only !== 'all')) {
    const unexpected = [...tensors.keys()].filter((n) => !store.entries.has(n) && !IGNORABLE(n));
    if (unexpected.length) {
      throw new Error(`${src}: ${unexpected.length} tensor${unexpected.length > 1 ? 's' : ''} the model does not have (config mismatch?): ${unexpected.slice(0, 8).join(', ')}${unexpected.length > 8 ? ', …' : ''}`);
    }
  }
  const values = new Map<string, Float32Array>();
  for (const e of wanted) {
    const t = tensors.get(e.name)!;
    if (shapeStr(t.shape) !== shapeStr(e.torchShape)) {
      throw new Error(`${src}: tensor '${e.name}' has shape ${shapeStr(t.shape)}, the model expects ${shapeStr(e.torchShape)} (config mismatch?)`);
    }
    const v = toFloat32(t, e.name);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new Error(`${src}: tensor '${e.name}' contains a non-finite value at index ${i}`);
    }
    values.set(e.name, v);
  }
  for (const e of wanted) {
    const t = fromTorch(e, values.get(e.name)!);
    e.variable.assign(t);
    t.dispose();
  }
}

/** The authors' constructor keys of a config (what config.json's "config" holds). */
export function configToJson(c: ResolvedHstConfig): Record<string, unknown> {
  const { stageLayers: _s, grid: _g, ...rest } = c;
  return rest;
}

/** Reads a config file: either the fixture form `{ "config": {...} }` or a bare config object. */
export async function readConfigFile(path: string): Promise<ResolvedHstConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the config (${(err as Error).message})`);
  }
  const obj = raw && typeof raw === 'object' && 'config' in raw ? (raw as { config: unknown }).config : raw;
  return resolveHstConfig(obj, path);
}

export function sidecarConfigPath(weightsPath: string): string {
  return weightsPath.replace(/\.safetensors$/i, '') + '.json';
}

/** Writes `<path>` (safetensors, official names) and its config next to it (`<name>.json`). */
export async function saveHstCheckpoint(model: HstModel, path: string, extraMeta: Record<string, string> = {}): Promise<{ weights: string; config: string }> {
  const cfg = configToJson(model.config);
  await writeSafetensors(path, exportState(model), {
    format: 'pt',
    layout: 'PyTorch state_dict of ViT_HSN: Linear (out,in), Conv (out,in,kh,kw)',
    hst_config: JSON.stringify(cfg),
    backbone: JSON.stringify(model.backboneSource),
    ...extraMeta,
  });
  const configPath = sidecarConfigPath(path);
  await writeFile(configPath, JSON.stringify({ config: cfg }, null, 1));
  return { weights: path, config: configPath };
}

/** Loads a full HST checkpoint; the config comes from `configPath`, else the sidecar JSON, else the file's metadata. */
export async function loadHstCheckpoint(path: string, configPath?: string): Promise<HstModel> {
  const file = await readSafetensors(path);
  let config: ResolvedHstConfig;
  if (configPath) config = await readConfigFile(configPath);
  else if (existsSync(sidecarConfigPath(path))) config = await readConfigFile(sidecarConfigPath(path));
  else if (file.metadata.hst_config) config = resolveHstConfig(JSON.parse(file.metadata.hst_config), `${path} (metadata hst_config)`);
  else throw new Error(`${path}: no config given, no ${sidecarConfigPath(path)} and no hst_config in the file's metadata`);
  const model = new HstModel(config, { backbone: 'pending' });
  try {
    loadState(model, file.tensors, { source: path });
  } catch (err) {
    model.dispose();
    throw err;
  }
  let source: BackboneSource = { kind: 'checkpoint', file: path };
  try {
    const recorded = file.metadata.backbone ? (JSON.parse(file.metadata.backbone) as BackboneSource) : null;
    // A checkpoint trained on an explicitly random backbone keeps that label.
    if (recorded?.kind === 'random') source = recorded;
  } catch {
    /* metadata from other tools: ignore */
  }
  model.backboneSource = source;
  return model;
}
