// Building an HST model on a backbone: an installed pretrained one, or — only when asked by name — 'random'.
import { presetConfig, resolveHstConfig, type HstConfigInput, type ResolvedHstConfig, type SidePreset, SIDE_PRESETS } from '../model/config';
import { HstModel } from '../model/hst';
import { loadBackbone, readBackboneFile } from '../model/backbone-load';
import type { BackboneManager, BackboneManifest } from './manager';

/** The sentinel for an explicitly random ViT (synthetic demo, benchmarks); never a fallback. */
export const RANDOM_BACKBONE = 'random';

/** HST config for an installed backbone with a side-network preset. */
export function configForBackbone(m: Pick<BackboneManifest, 'shape'>, side: SidePreset, extra: Partial<HstConfigInput> = {}): ResolvedHstConfig {
  const s = SIDE_PRESETS[side];
  return resolveHstConfig({ ...m.shape, m_embed_dims: [...s.m_embed_dims], m_c_num_heads: [...s.m_c_num_heads], ...extra });
}

/**
 * A model whose ViT is the installed backbone `id` (config must match its shape), or a random ViT when
 * `id === 'random'`, labelled as such in model.backboneSource.
 */
export async function buildHstWithBackbone(config: ResolvedHstConfig, id: string, manager: BackboneManager, seed?: number): Promise<HstModel> {
  if (id === RANDOM_BACKBONE) return new HstModel(config, { backbone: 'random', seed });
  const m = await manager.require(id);
  const weights = await readBackboneFile(m.path, m.shape.num_heads);
  const model = new HstModel(config, { backbone: 'pending', seed });
  try {
    loadBackbone(model, weights, { name: id, file: m.path, sha256: m.sha256 });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

export { presetConfig };
