// Semantic labels for the Semantic-FPN head, derived from instance masks when a project has no separate
// semantic annotation ("masks also give semantic labels").
import { IGNORE_LABEL } from '../losses/cross-entropy';
import type { ImageMasks } from './condinst-targets';

/**
 * H·W labels: 0 = background, class+1 inside an instance mask (smaller instances are painted last, so they win
 * where masks overlap). An image whose instances are not all masked cannot say which pixels are background, so it
 * is ignored entirely (255); an image with no instances at all is all background.
 */
export function semanticFromInstances(labels: ArrayLike<number>, masks: ImageMasks | undefined, H: number, W: number): Uint8Array {
  const n = labels.length;
  const out = new Uint8Array(H * W);
  if (n === 0) return out;
  if (!masks || masks.length !== n || masks.some((m) => !m)) return out.fill(IGNORE_LABEL);
  const area = masks.map((m) => m!.reduce((a, v) => a + (v ? 1 : 0), 0));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => area[b] - area[a]);
  for (const i of order) {
    const m = masks[i]!;
    if (m.length !== H * W) throw new Error(`Semantic labels: instance ${i} has a mask of ${m.length} pixels, expected ${H}×${W}.`);
    const v = labels[i] + 1;
    if (v >= IGNORE_LABEL) throw new Error(`Semantic labels: class ${labels[i]} does not fit the 8-bit label map.`);
    for (let p = 0; p < m.length; p++) if (m[p]) out[p] = v;
  }
  return out;
}
