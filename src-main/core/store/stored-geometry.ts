// Reading a stored geometry defensively: rows written before geometry was validated (schema < 4), by another
// tool, or damaged, must not break an export, the trainer or a listing. Returns the geometry to use (clipped to
// the image when it lay partly outside) or why it cannot be used.
import type { Geometry } from '../../contract/schemas';
import { checkGeometry } from '../geometry/validate';

export type StoredGeometry = { ok: true; geometry: Geometry; clipped: boolean } | { ok: false; reason: string };

export function storedGeometry(kind: string, json: string, width: number, height: number): StoredGeometry {
  let rest: unknown;
  try {
    rest = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `its geometry is not valid JSON (${(err as Error).message})` };
  }
  if (!rest || typeof rest !== 'object' || Array.isArray(rest)) return { ok: false, reason: 'its geometry is not an object' };
  try {
    const r = checkGeometry({ ...(rest as object), kind } as Geometry, width, height, 'geometry');
    return { ok: true, geometry: r.geometry, clipped: r.clipped };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
