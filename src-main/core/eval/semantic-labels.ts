// Ground-truth label maps for semantic evaluation, built from instance masks (a project labelled with masks
// or polygons also has semantic labels). Masks are painted in order, so a later mask wins where two overlap;
// crowd regions can be painted with the ignore label so they count neither way.
import type { Rle } from '../../contract/schemas';
import { decodeMask } from '../geometry/rle';

export interface LabelledMask {
  /** Class index in the label map (0..254). */
  label: number;
  rle: Rle;
}

/** Row-major h×w map; pixels outside every mask get `background`. */
export function labelMapFromMasks(masks: readonly LabelledMask[], h: number, w: number, background = 0): Uint8Array {
  const out = new Uint8Array(h * w).fill(background);
  masks.forEach((m, n) => {
    if (!Number.isInteger(m.label) || m.label < 0 || m.label > 255) throw new Error(`mask ${n}: label ${m.label} is not in 0..255`);
    const [mh, mw] = m.rle.size;
    if (mh !== h || mw !== w) throw new Error(`mask ${n}: size ${mw}x${mh} differs from the label map's ${w}x${h}`);
    const bits = decodeMask(m.rle);
    for (let p = 0; p < bits.length; p++) if (bits[p]) out[p] = m.label;
  });
  return out;
}
