// The "params version" of the feature cache: a hash of every parameter that fast incremental mode freezes —
// the ViT backbone (patch embedding, position embedding, attention/MLP weights, and each block's norm1/norm2,
// which the full fine-tune trains but fast mode does not) and the per-layer Meta Tokens. With these fixed the
// ViT's per-block outputs depend only on the image, so cached outputs stay valid exactly as long as this hash
// does. Changing any of them (a new full fine-tune, another backbone) gives a new version, and the old cache
// entries simply stop matching (and age out by LRU).
import { createHash } from 'node:crypto';
import type { HstModel } from '../model/hst';
import type { ParamEntry } from '../model/params';

/** True for the parameters fast mode keeps fixed (and that determine the cached ViT outputs). */
export function isFrozenInFastMode(e: Pick<ParamEntry, 'name' | 'backbone'>): boolean {
  return e.backbone || e.name.startsWith('m_embeddings.');
}

/** Entries frozen in fast mode, sorted by name (the hash must not depend on registration order). */
export function fastFrozenEntries(hst: HstModel): ParamEntry[] {
  return [...hst.store.entries.values()].filter(isFrozenInFastMode).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * sha256 over (name, torch shape, float32 bytes) of each frozen parameter, hex. Costs one read of the
 * backbone weights (≈ 20 ms per 5 M parameters): compute it once per loaded model, not per image.
 */
export function frozenParamsVersion(hst: HstModel): string {
  const h = createHash('sha256');
  h.update('hst-fast-frozen-v1\0');
  for (const e of fastFrozenEntries(hst)) {
    const data = e.variable.dataSync() as Float32Array;
    h.update(`${e.name}\0${e.torchShape.join(',')}\0${e.variable.shape.join(',')}\0`);
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}
