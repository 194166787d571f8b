// Known pretrained ViT backbones (timm safetensors on the Hugging Face hub). Sizes are approximate (download
// progress and sanity only); sha256 is filled in where we know the published digest, otherwise the digest is
// computed at download time and recorded in the manifest so later loads are checked against it.
import type { BackboneShape } from '../model/config';

export interface CatalogueEntry {
  id: string;
  title: string;
  /** Hugging Face hub repository holding model.safetensors */
  hfRepo: string;
  url: string;
  approxBytes: number;
  sha256: string | null;
  licence: string;
  shape: BackboneShape;
  /** input normalisation the weights were trained with */
  mean: [number, number, number];
  std: [number, number, number];
  notes?: string;
  /** what it is good for, one sentence (the studio's backbone manager shows it) */
  goodFor: string;
}

const HUB = 'https://huggingface.co';
const INET: Pick<CatalogueEntry, 'mean' | 'std'> = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const HALF: Pick<CatalogueEntry, 'mean' | 'std'> = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const MB = 1024 * 1024;

const entry = (e: Omit<CatalogueEntry, 'url'>): CatalogueEntry => ({ ...e, url: `${HUB}/${e.hfRepo}/resolve/main/model.safetensors` });

export const CATALOGUE: CatalogueEntry[] = [
  entry({ id: 'vit-tiny-16-augreg-in21k', title: 'ViT-Ti/16 AugReg ImageNet-21k', hfRepo: 'timm/vit_tiny_patch16_224.augreg_in21k', approxBytes: 39 * MB, sha256: null, licence: 'Apache-2.0', shape: 'vit-tiny-16', ...HALF, goodFor: 'Fast on any CPU: the first choice for a laptop; detection and masks of everyday objects.' }),
  entry({ id: 'vit-small-16-augreg-in21k', title: 'ViT-S/16 AugReg ImageNet-21k', hfRepo: 'timm/vit_small_patch16_224.augreg_in21k', approxBytes: 120 * MB, sha256: null, licence: 'Apache-2.0', shape: 'vit-small-16', ...HALF, goodFor: 'Better features than ViT-Ti at ~3× its cost: a desktop CPU or a GPU.' }),
  entry({ id: 'vit-base-16-augreg-in21k', title: 'ViT-B/16 AugReg ImageNet-21k (the HST paper\'s backbone)', hfRepo: 'timm/vit_base_patch16_224.augreg_in21k', approxBytes: 410 * MB, sha256: null, licence: 'Apache-2.0', shape: 'vit-base-16', ...HALF, notes: 'B_16-i21k-300ep-lr_0.001-aug_medium1-wd_0.1-do_0.0-sd_0.0 — what the authors\' --pretrained loads', goodFor: "The paper's backbone: best accuracy, needs a GPU for reasonable training times." }),
  entry({ id: 'deit-tiny-16-in1k', title: 'DeiT-Ti/16 ImageNet-1k', hfRepo: 'timm/deit_tiny_patch16_224.fb_in1k', approxBytes: 23 * MB, sha256: null, licence: 'Apache-2.0', shape: 'vit-tiny-16', ...INET, goodFor: 'ViT-Ti trained on ImageNet-1k only; small and fast, somewhat weaker features than AugReg-21k.' }),
  entry({ id: 'deit-small-16-in1k', title: 'DeiT-S/16 ImageNet-1k', hfRepo: 'timm/deit_small_patch16_224.fb_in1k', approxBytes: 88 * MB, sha256: null, licence: 'Apache-2.0', shape: 'vit-small-16', ...INET, goodFor: 'ViT-S trained on ImageNet-1k only; a middle ground on a CPU.' }),
  entry({ id: 'vit-base-16-mae', title: 'ViT-B/16 MAE self-supervised', hfRepo: 'timm/vit_base_patch16_224.mae', approxBytes: 343 * MB, sha256: null, licence: 'CC-BY-NC-4.0 (non-commercial)', shape: 'vit-base-16', ...INET, goodFor: 'Self-supervised features for research; non-commercial licence.' }),
  entry({ id: 'dinov2-small-14', title: 'DINOv2 ViT-S/14 (LVD-142M)', hfRepo: 'timm/vit_small_patch14_dinov2.lvd142m', approxBytes: 88 * MB, sha256: null, licence: 'Apache-2.0', shape: 'dinov2-small-14', ...INET, notes: 'patch 14, layer scale; input sizes must be multiples of 14', goodFor: 'Strong self-supervised features for dense tasks (masks, segmentation); patch 14.' }),
];

export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return CATALOGUE.find((e) => e.id === id);
}
