// Facts about a model version for the Models page, read from what the trainer and the incremental updater
// stored. An incremental version's config is its parent's plus an `incremental` block, so the parent's
// `seconds` must not be shown as its time (issue 18: "v2 shows v1's time"), and its origin names its mode.

interface VersionLike {
  parentId: number | null;
  config: unknown;
  metrics: Record<string, unknown> | null | undefined;
}

const rec = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' ? (v as Record<string, unknown>) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function incrementalBlock(v: VersionLike): Record<string, unknown> | null {
  return rec(rec(v.config)?.incremental);
}

export function isIncremental(v: VersionLike): boolean {
  return v.parentId !== null || incrementalBlock(v) !== null;
}

/**
 * The trainer that made it ('pytorch (torchrun)' for an imported model), 'incremental' (keeps the contract's value)
 * or 'fine-tune (fast|full)' (', tiles N px' for a model trained on tiles): a fast-mode run never reads "full".
 */
export function versionOrigin(v: VersionLike): string {
  // a version trained elsewhere (the PyTorch trainer under torchrun) names that trainer
  const trainer = str(rec(rec(v.config)?.origin)?.trainer);
  if (trainer) return trainer;
  if (isIncremental(v)) return 'incremental';
  const mode = str(rec(v.config)?.mode);
  // trained on tiles of large photos (training/tile-dataset.ts): prediction cuts photos the same way
  const tile = num(rec(rec(v.config)?.tiles)?.size);
  const how = [mode, tile !== null ? `tiles ${tile} px` : null].filter(Boolean).join(', ');
  return how ? `fine-tune (${how})` : 'fine-tune';
}

/** Its own wall time in seconds: the run's for a fine-tune, the update's for an incremental version. */
export function versionSeconds(v: VersionLike): number | null {
  if (isIncremental(v)) {
    const ms = num(rec(v.metrics)?.wallMs);
    return ms === null ? null : ms / 1000;
  }
  return num(rec(v.config)?.seconds);
}

/**
 * Why an adapter export of this version cannot work, said before any worker starts (it took 15 s to learn
 * in the worker), in words for UI and CLI users alike; null when it may work.
 */
export function adapterRefusal(v: Pick<VersionLike, 'config'>): string | null {
  const backbone = str(rec(v.config)?.backbone);
  if (backbone !== null && /^random\b/.test(backbone))
    return 'this model was trained on a random (untrained) backbone, which no other studio has, so an adapter could not restore it: export the full checkpoint (safetensors) instead';
  return null;
}
