// What the planner needs to know about a project's labelled data, gathered once from its neutral Dataset: how
// many labelled images each split has, the photos' sizes, and the objects' sizes in the photos' own pixels.
import type { Dataset } from '../datasets/types';
import { geometryBbox } from '../geometry/iou';

export interface PlanStats {
  /** labelled images per split (test images are never trained or evaluated on) */
  trainImages: number;
  valImages: number;
  /** labelled train+val images, for a held-out val split drawn from them */
  labelled: { key: string; classes: string[]; split: 'train' | 'val' }[];
  /** per labelled train/val image: its size in pixels (0 when the source did not say) */
  imageSizes: { width: number; height: number }[];
  /** per annotation on a labelled train/val image: √(w·h) of its box in the photo's pixels, and the photo's longer side */
  objects: { side: number; imageMax: number }[];
  classes: number;
}

/** `labelled`: keys of the images that count as labelled (a store's non-'unlabeled' images); default: annotated ones. */
export function collectPlanStats(ds: Dataset, labelled?: ReadonlySet<string>): PlanStats {
  const byImage = new Map<string, Set<string>>();
  for (const a of ds.annotations) {
    let s = byImage.get(a.imageKey);
    if (!s) byImage.set(a.imageKey, (s = new Set()));
    s.add(a.className);
  }
  const isLabelled = (k: string) => (labelled ? labelled.has(k) : byImage.has(k));
  const stats: PlanStats = { trainImages: 0, valImages: 0, labelled: [], imageSizes: [], objects: [], classes: ds.classes.length };
  const maxSide = new Map<string, number>();
  for (const im of ds.images) {
    const split = im.split ?? 'train';
    if (!isLabelled(im.key) || split === 'test') continue;
    if (split === 'train') stats.trainImages++;
    else stats.valImages++;
    stats.labelled.push({ key: im.key, classes: [...(byImage.get(im.key) ?? [])].sort(), split });
    stats.imageSizes.push({ width: im.width, height: im.height });
    maxSide.set(im.key, Math.max(im.width, im.height));
  }
  for (const a of ds.annotations) {
    const m = maxSide.get(a.imageKey);
    if (!m) continue;
    const [, , w, h] = geometryBbox(a.geometry);
    if (w > 0 && h > 0) stats.objects.push({ side: Math.sqrt(w * h), imageMax: m });
  }
  return stats;
}
