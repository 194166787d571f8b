// Load a pretrained ViT (timm or transformers naming, safetensors) into an HST model's backbone.
import { readSafetensors } from '../io/safetensors';
import type { HstModel } from './hst';
import { importHfBackbone, isHfVitNaming } from './hf-import';
import { adaptPosEmbed, importTimmBackbone, type BackboneWeights } from './timm-import';
import { loadState } from './weights';

/** Reads a backbone file and maps either naming onto the timm names. */
export async function readBackboneFile(path: string, numHeads?: number): Promise<BackboneWeights> {
  const file = await readSafetensors(path);
  return isHfVitNaming(file.tensors.keys()) ? importHfBackbone(file.tensors, path, numHeads) : importTimmBackbone(file.tensors, path, numHeads);
}

/**
 * Fills the model's ViT from backbone weights. The checkpoint must match the model's width, depth and patch;
 * its position embedding is resampled if its grid differs from the model's native grid.
 */
export function loadBackbone(model: HstModel, weights: BackboneWeights, label: { name: string; file?: string; sha256?: string }): void {
  const c = model.config;
  const s = weights.shape;
  const src = label.file ?? label.name;
  const mismatch = (['embed_dim', 'depth', 'patch_size'] as const).filter((k) => s[k] !== c[k]);
  if (mismatch.length) {
    throw new Error(`${src}: backbone ${mismatch.map((k) => `${k}=${s[k]}`).join(', ')} does not match the model config (${mismatch.map((k) => `${k}=${c[k]}`).join(', ')})`);
  }
  if (Boolean(s.layer_scale) !== c.layer_scale) throw new Error(`${src}: backbone ${s.layer_scale ? 'has' : 'lacks'} layer-scale gammas but the config says layer_scale=${c.layer_scale}`);
  loadState(model, adaptPosEmbed(weights, c.grid).tensors, { source: src, only: 'backbone', allowUnexpected: true });
  model.backboneSource = { kind: 'pretrained', ...label };
}
