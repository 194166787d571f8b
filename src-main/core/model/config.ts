// HST configuration. Keys use the authors' ViT_HSN constructor names (img_size, patch_size, embed_dim, depth,
// num_heads, num_classes, m_embed_dims, m_c_num_heads, m_depths, block_indices) so the fixture's and the
// authors' configs load unchanged; the few extras have the same style.
import { z } from 'zod';
import type { SidePresetName } from '../../contract/api';

const posInt = z.number().int().positive();
const four = <T extends z.ZodTypeAny>(t: T) => z.array(t).length(4);

export const HstConfigSchema = z
  .object({
    img_size: posInt.default(224).describe('native input size of the backbone: its pos_embed covers (img_size/patch_size)² patches'),
    patch_size: posInt.default(16),
    in_chans: z.literal(3).default(3),
    embed_dim: posInt.default(768),
    depth: posInt.default(12),
    num_heads: posInt.default(12),
    mlp_ratio: z.number().positive().default(4).describe('ViT MLP hidden = mlp_ratio·embed_dim'),
    qkv_bias: z.literal(true).default(true),
    num_classes: z.number().int().nonnegative().default(0).describe('0 = no classification head'),
    m_embed_dims: four(posInt).default([32, 48, 64, 72]),
    m_c_num_heads: four(posInt).default([2, 4, 8, 12]),
    m_depths: four(posInt).optional().describe('side blocks per stage; default depth/4 each'),
    block_indices: four(z.number().int().nonnegative()).optional().describe('last ViT block of each stage; default evenly split'),
    m_mlp_ratio: z.number().positive().default(4),
    metaG_num: z.literal(1).default(1),
    num_stages: z.literal(4).default(4),
    drop_path_rate: z.number().min(0).max(1).default(0),
    vit_norm_eps: z.number().positive().default(1e-6).describe('timm ViT LayerNorm eps (HF transformers uses 1e-12)'),
    layer_scale: z.boolean().default(false).describe('ViT blocks carry ls1/ls2 gammas (DINOv2)'),
  })
  .strict();

export type HstConfigInput = z.input<typeof HstConfigSchema>;
export type HstConfig = z.output<typeof HstConfigSchema>;

export interface ResolvedHstConfig extends HstConfig {
  m_depths: number[];
  block_indices: number[];
  /** ViT block indices consumed by each stage, in order */
  stageLayers: number[][];
  /** native patch grid of pos_embed */
  grid: number;
}

/** Validates a config (authors' names) and derives the stage ↔ ViT-layer mapping. Errors name the field. */
export function resolveHstConfig(input: unknown, source = 'HST config'): ResolvedHstConfig {
  const parsed = HstConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = parsed.data;
  const fail = (msg: string) => {
    throw new Error(`${source}: ${msg}`);
  };
  if (c.img_size % c.patch_size !== 0) fail(`img_size ${c.img_size} is not a multiple of patch_size ${c.patch_size}`);
  if (c.embed_dim % c.num_heads !== 0) fail(`embed_dim ${c.embed_dim} is not divisible by num_heads ${c.num_heads}`);
  c.m_embed_dims.forEach((d, s) => {
    if (d % c.m_c_num_heads[s] !== 0) fail(`m_embed_dims[${s}]=${d} is not divisible by m_c_num_heads[${s}]=${c.m_c_num_heads[s]}`);
  });
  let indices = c.block_indices;
  if (!indices) {
    if (c.depth % 4 !== 0) fail(`depth ${c.depth} is not divisible by 4; give block_indices explicitly`);
    const q = c.depth / 4;
    indices = [q - 1, 2 * q - 1, 3 * q - 1, 4 * q - 1];
  }
  const stageLayers: number[][] = [];
  let prev = -1;
  indices.forEach((last, s) => {
    if (last <= prev) fail(`block_indices must increase (stage ${s + 1}: ${last} after ${prev})`);
    if (last >= c.depth) fail(`block_indices[${s}]=${last} is past the last ViT block (depth ${c.depth})`);
    stageLayers.push(Array.from({ length: last - prev }, (_, i) => prev + 1 + i));
    prev = last;
  });
  if (prev !== c.depth - 1) fail(`block_indices end at ${prev} but the ViT has blocks up to ${c.depth - 1}; every ViT block feeds one side block`);
  const depths = c.m_depths ?? stageLayers.map((l) => l.length);
  depths.forEach((d, s) => {
    if (d !== stageLayers[s].length) fail(`m_depths[${s}]=${d} but stage ${s + 1} spans ${stageLayers[s].length} ViT blocks (block_indices ${JSON.stringify(indices)}); side block j of a stage consumes that stage's j-th ViT block`);
  });
  return { ...c, m_depths: depths, block_indices: indices, stageLayers, grid: c.img_size / c.patch_size };
}

/** The ViT backbones the studio knows by shape (timm names). */
export const BACKBONE_SHAPES = {
  'vit-tiny-16': { embed_dim: 192, depth: 12, num_heads: 3, patch_size: 16, img_size: 224 },
  'vit-small-16': { embed_dim: 384, depth: 12, num_heads: 6, patch_size: 16, img_size: 224 },
  'vit-base-16': { embed_dim: 768, depth: 12, num_heads: 12, patch_size: 16, img_size: 224 },
  'vit-large-16': { embed_dim: 1024, depth: 24, num_heads: 16, patch_size: 16, img_size: 224 },
  'dinov2-small-14': { embed_dim: 384, depth: 12, num_heads: 6, patch_size: 14, img_size: 518, layer_scale: true },
  'dinov2-base-14': { embed_dim: 768, depth: 12, num_heads: 12, patch_size: 14, img_size: 518, layer_scale: true },
} as const satisfies Record<string, Partial<HstConfigInput>>;
export type BackboneShape = keyof typeof BACKBONE_SHAPES;

/** Side-network width presets (spec §3.1, §8). */
export const SIDE_PRESETS = {
  /** the paper's classification widths */
  classification: { m_embed_dims: [32, 48, 64, 72], m_c_num_heads: [2, 4, 8, 12] },
  /** the paper's dense-prediction width (10.4M params with ViT-B) */
  dense: { m_embed_dims: [64, 128, 256, 384], m_c_num_heads: [2, 4, 8, 12] },
  /** same architecture, narrower: dense tasks trained on a CPU */
  small: { m_embed_dims: [32, 64, 128, 192], m_c_num_heads: [1, 2, 4, 6] },
  /**
   * narrower still, for the fast-mode plan on CPU backends (train-service.ts): the classification widths with a
   * 24-wide stride-4 stage (1024 tokens per 128 px image, the side network's dearest stage). On the demo it
   * reaches box AP50 0.8 in fewer steps than `small` at ~0.6× its cost per step (bench/results/finetune.md).
   */
  lite: { m_embed_dims: [24, 48, 64, 72], m_c_num_heads: [2, 4, 8, 12] },
} as const satisfies Record<SidePresetName, { m_embed_dims: readonly number[]; m_c_num_heads: readonly number[] }>;
export type SidePreset = keyof typeof SIDE_PRESETS;

export function presetConfig(backbone: BackboneShape, side: SidePreset, extra: Partial<HstConfigInput> = {}): ResolvedHstConfig {
  const s = SIDE_PRESETS[side];
  return resolveHstConfig({ ...BACKBONE_SHAPES[backbone], m_embed_dims: [...s.m_embed_dims], m_c_num_heads: [...s.m_c_num_heads], ...extra });
}
