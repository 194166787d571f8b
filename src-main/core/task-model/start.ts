// How a task model's start is chosen, shared by the studio's trainer (training/train-project.ts) and the training
// bundle export (export/training-bundle.ts): which images count (the labelled ones) and the HST built on the
// chosen backbone (installed id, .safetensors file, or an explicit 'random').
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BackboneManager } from '../backbones/manager';
import { dataDir as defaultDataDir } from '../compute/environment';
import type { Dataset } from '../datasets/types';
import { BACKBONE_SHAPES, SIDE_PRESETS, resolveHstConfig, type HstConfigInput, type SidePreset } from '../model/config';
import { HstModel } from '../model/hst';
import { loadBackbone, readBackboneFile } from '../model/backbone-load';
import type { FullProjectStore } from '../store/types';

export interface StartOptions {
  /** installed backbone id, a backbone .safetensors file, or 'random' (explicit); default: the first installed */
  backbone?: string;
  /** where backbones are installed (default: the studio data dir) */
  dataDir?: string;
  /** ViT shape overrides for a random backbone (tests use a shallow ViT: same architecture, smaller) */
  randomVit?: Partial<HstConfigInput>;
}

export function labelledOnly(ds: Dataset, store: FullProjectStore): Dataset {
  const keep = new Set(store.listImages().items.filter((i) => i.status !== 'unlabeled').map((i) => String(i.id)));
  return { ...ds, images: ds.images.filter((i) => keep.has(i.key)), annotations: ds.annotations.filter((a) => keep.has(a.imageKey)) };
}

export function noBackboneMessage(): string {
  return (
    'no pretrained backbone is installed. Install one with `hst-studio backbone download vit-tiny-16` (or ' +
    '`hst-studio backbone import FILE.safetensors`), or train on an explicitly random, untrained backbone with ' +
    '`--backbone random` (only sensible for the synthetic demo)'
  );
}

export async function buildHst(o: StartOptions, size: number, side: SidePreset, seed: number): Promise<{ hst: HstModel; label: string }> {
  const s = SIDE_PRESETS[side];
  const sideCfg = { m_embed_dims: [...s.m_embed_dims], m_c_num_heads: [...s.m_c_num_heads] };
  const mgr = new BackboneManager(o.dataDir ?? defaultDataDir());
  let id = o.backbone;
  if (!id) {
    const installed = await mgr.list();
    if (installed.length === 0) throw new Error(noBackboneMessage());
    id = installed[0].id;
  }
  if (id === 'random') {
    const cfg = resolveHstConfig({ ...BACKBONE_SHAPES['vit-tiny-16'], img_size: size, ...sideCfg, ...o.randomVit, num_classes: 0 });
    return { hst: new HstModel(cfg, { backbone: 'random', seed }), label: 'random (untrained) backbone' };
  }
  const fromFile = existsSync(id) && statSync(id).isFile();
  const file = fromFile ? resolve(id) : (await mgr.require(id)).path;
  const manifest = fromFile ? null : await mgr.get(id);
  const weights = await readBackboneFile(file, manifest?.shape.num_heads);
  const cfg = resolveHstConfig({ ...weights.shape, ...sideCfg, num_classes: 0 });
  const hst = new HstModel(cfg, { backbone: 'pending', seed });
  try {
    loadBackbone(hst, weights, { name: fromFile ? file : id, file, sha256: manifest?.sha256 });
  } catch (err) {
    hst.dispose();
    throw err;
  }
  return { hst, label: fromFile ? file : id };
}
