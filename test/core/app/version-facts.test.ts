import { describe, expect, it } from 'vitest';
import { adapterRefusal, versionOrigin, versionSeconds } from '../../../src-main/core/app/version-facts';

const v1 = { parentId: null, config: { mode: 'fast', seconds: 168.2, backend: 'wasm' }, metrics: {} };
// what the incremental updater stores: the parent's config plus an `incremental` block, its own wall time in metrics
const v2 = { parentId: 1, config: { ...v1.config, incremental: { mode: 'fast', parentId: 1 } }, metrics: { wallMs: 3300 } };

describe('model version facts (Models page)', () => {
  it('gives an incremental version its own time, not its parent\'s', () => {
    expect(versionSeconds(v1)).toBe(168.2);
    expect(versionSeconds(v2)).toBe(3.3);
    expect(versionSeconds({ ...v2, metrics: {} })).toBeNull();
  });
  it('names a fine-tune\'s mode, so a fast-mode model never reads "full"', () => {
    expect(versionOrigin(v1)).toBe('fine-tune (fast)');
    expect(versionOrigin({ ...v1, config: { mode: 'full' } })).toBe('fine-tune (full)');
    expect(versionOrigin({ ...v1, config: { mode: 'fast', tiles: { size: 192, overlap: 19 } } })).toBe('fine-tune (fast, tiles 192 px)');
    expect(versionOrigin({ ...v1, config: {} })).toBe('fine-tune');
    expect(versionOrigin(v2)).toBe('incremental');
  });
  it('refuses an adapter of a random-backbone model at once, in words that name no CLI flag', () => {
    const msg = adapterRefusal({ config: { backbone: 'random (untrained) backbone' } });
    expect(msg).toMatch(/random \(untrained\) backbone.*export the full checkpoint \(safetensors\)/);
    expect(msg).not.toMatch(/--/);
    expect(adapterRefusal({ config: { backbone: 'vit-b16' } })).toBeNull();
    expect(adapterRefusal({ config: null })).toBeNull();
  });
});
