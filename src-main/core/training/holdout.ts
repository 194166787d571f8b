// A val split for a project that has none: a stable, seeded hold-out of about `fraction` of the labelled
// images with every class in it. Each image's rank is a hash of (seed, image key), so the draw does not depend
// on the images' order, and adding images later leaves every earlier image where it was unless the count of
// val images it needs grows.
import { createHash } from 'node:crypto';

export const DEFAULT_VAL_FRACTION = 0.15;

export interface HoldoutImage {
  key: string;
  classes: readonly string[];
}

function rank(seed: number, key: string): string {
  return createHash('sha1').update(`${seed}\0${key}`).digest('hex');
}

/**
 * Keys of the images to hold out. Every class that appears on at least two images gets at least one val image
 * (its lowest-ranked one) while keeping at least one in train; the rest of the quota goes by rank. At least one
 * image is held out when there are two or more, and never all of them.
 */
export function drawHoldout(images: readonly HoldoutImage[], fraction = DEFAULT_VAL_FRACTION, seed = 0): Set<string> {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`the val fraction must be between 0 and 1, got ${fraction}`);
  const n = images.length;
  const out = new Set<string>();
  if (n < 2) return out;
  const quota = Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  const ordered = [...images].map((im) => ({ im, r: rank(seed, im.key) })).sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0));
  // classes rarest first, so a rare class's only candidates are not taken by the coverage of a common one
  const count = new Map<string, number>();
  for (const im of images) for (const c of new Set(im.classes)) count.set(c, (count.get(c) ?? 0) + 1);
  const classes = [...count.keys()].sort((a, b) => count.get(a)! - count.get(b)! || (a < b ? -1 : 1));
  const inVal = new Map<string, number>();
  const take = (im: HoldoutImage) => {
    out.add(im.key);
    for (const c of new Set(im.classes)) inVal.set(c, (inVal.get(c) ?? 0) + 1);
  };
  for (const c of classes) {
    if (count.get(c)! < 2 || (inVal.get(c) ?? 0) > 0) continue;
    // the image must not take the last train example of any class it carries
    const pick = ordered.find(({ im }) => !out.has(im.key) && im.classes.includes(c) && im.classes.every((k) => (inVal.get(k) ?? 0) + 1 < count.get(k)!));
    if (pick && out.size < n - 1) take(pick.im);
  }
  for (const { im } of ordered) {
    if (out.size >= quota) break;
    if (out.has(im.key)) continue;
    if (im.classes.some((k) => (inVal.get(k) ?? 0) + 1 >= count.get(k)!)) continue;
    take(im);
  }
  return out;
}
