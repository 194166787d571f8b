// Learning-rate schedule: linear warm-up from warmupInitLr to baseLr, then half-cosine down to minLr
// (timm's CosineLRScheduler shape, evaluated per optimizer step instead of per epoch).

export interface WarmupCosineOptions {
  baseLr: number;
  totalSteps: number;
  warmupSteps?: number; // default 0
  warmupInitLr?: number; // default 0
  minLr?: number; // default 0
}

/** lr for optimizer step `step` (0-based). Steps past totalSteps stay at minLr. */
export function warmupCosineLr(step: number, o: WarmupCosineOptions): number {
  const warm = o.warmupSteps ?? 0;
  const init = o.warmupInitLr ?? 0;
  const minLr = o.minLr ?? 0;
  if (!(o.totalSteps > 0)) throw new Error(`Schedule: totalSteps must be positive (got ${o.totalSteps}).`);
  if (step < warm) return init + ((o.baseLr - init) * step) / warm;
  const span = Math.max(1, o.totalSteps - warm);
  const progress = Math.min(1, (step - warm) / span);
  return minLr + 0.5 * (o.baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
}
