// The feature cache: params version changes with exactly the fast-mode-frozen parameters; a cached ViT pass
// gives the same side-network output as the on-the-fly ViT up to float16 error; entries survive reopening,
// are keyed by flip, trimmed by LRU to the byte budget, and a damaged file is a miss, not a crash.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { computeFeatures, FeatureCache, toVitOutput } from '../../../src-main/core/features/feature-cache';
import { fastFrozenEntries, frozenParamsVersion } from '../../../src-main/core/features/frozen-version';
import { createRandomHst, type HstModel } from '../../../src-main/core/model/hst';
import { resolveHstConfig } from '../../../src-main/core/model/config';
import { createProject, type SqliteProjectStore } from '../../../src-main/core/store/project';

const tiny = resolveHstConfig({
  img_size: 32, patch_size: 8, embed_dim: 16, depth: 4, num_heads: 2,
  m_embed_dims: [8, 8, 16, 16], m_c_num_heads: [2, 2, 4, 4],
});

function image(seed: number, H = 32, W = 32): Float32Array {
  const a = new Float32Array(H * W * 3);
  let s = seed * 9301 + 49297;
  for (let i = 0; i < a.length; i++) {
    s = (s * 9301 + 49297) % 233280;
    a[i] = s / 233280 * 2 - 1;
  }
  return a;
}

describe('feature cache', () => {
  let dir: string;
  let store: SqliteProjectStore;
  let hst: HstModel;

  beforeAll(async () => {
    await initCompute({ backend: 'cpu' });
    dir = mkdtempSync(join(tmpdir(), 'hst-fc-'));
    store = createProject(join(dir, 'p'));
    hst = createRandomHst(tiny, 3);
  });
  afterAll(() => {
    hst.dispose();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('params version covers the ViT, its block norms and MetaT, and nothing the side network owns', () => {
    const names = fastFrozenEntries(hst).map((e) => e.name);
    expect(names).toContain('blocks.0.norm1.weight');
    expect(names).toContain('blocks.3.attn.qkv.weight');
    expect(names).toContain('m_embeddings.2');
    expect(names.some((n) => n.startsWith('T_Bridge') || n.startsWith('m_norm') || n.startsWith('m_proj_norm'))).toBe(false);

    const v0 = frozenParamsVersion(hst);
    expect(v0).toMatch(/^[0-9a-f]{64}$/);
    const bridge = hst.store.get('T_Bridge_1.weight');
    const keep = bridge.clone();
    bridge.assign(tf.add(bridge, 1));
    expect(frozenParamsVersion(hst)).toBe(v0);
    bridge.assign(keep);
    keep.dispose();
    const ln = hst.store.get('blocks.1.norm2.weight');
    const old = ln.clone();
    ln.assign(tf.add(ln, 1e-3));
    expect(frozenParamsVersion(hst)).not.toBe(v0);
    ln.assign(old);
    old.dispose();
    expect(frozenParamsVersion(hst)).toBe(v0);
  });

  it('a cached read gives the on-the-fly side-network output up to float16 error', async () => {
    const cache = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: frozenParamsVersion(hst) });
    const imgs = [image(1), image(2)];
    expect(await cache.ensure(hst, imgs.map((im, i) => ({ imageHash: `h${i}`, flipped: false, image: im, height: 32, width: 32 })))).toBe(2);
    expect(cache.has('h0')).toBe(true);
    expect(cache.has('h0', true)).toBe(false);
    // a fresh cache object reads from disk, not from the memory of the first
    const fresh = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: frozenParamsVersion(hst) });
    const feats = [(await fresh.get('h0'))!, (await fresh.get('h1'))!];
    expect(feats[0].depth).toBe(4);
    const x = tf.tensor4d(Float32Array.from([...imgs[0], ...imgs[1]]), [2, 32, 32, 3]);
    const [ref, got] = tf.tidy(() => {
      const a = hst.forward(x).stages.map((s) => s.dataSync() as Float32Array);
      const b = hst.sideForward(x, toVitOutput(feats)).stages.map((s) => s.dataSync() as Float32Array);
      return [a, b];
    });
    x.dispose();
    for (let s = 0; s < 4; s++) {
      let num = 0;
      let den = 0;
      for (let i = 0; i < ref[s].length; i++) {
        num += (ref[s][i] - got[s][i]) ** 2;
        den += ref[s][i] ** 2;
      }
      const rel = Math.sqrt(num / den);
      expect(rel, `stage ${s + 1}`).toBeLessThan(2e-3);
      expect(rel, `stage ${s + 1} (float16 must not be exact, or this test is not reading the cache)`).toBeGreaterThan(0);
    }
  });

  it('computes a batch the same as one image at a time', () => {
    const a = computeFeatures(hst, [{ image: image(5), height: 32, width: 32 }, { image: image(6), height: 32, width: 32 }]);
    const b = computeFeatures(hst, [{ image: image(6), height: 32, width: 32 }]);
    let max = 0;
    for (let i = 0; i < b[0].patches.length; i++) max = Math.max(max, Math.abs(a[1].patches[i] - b[0].patches[i]));
    expect(max).toBeLessThan(1e-4);
  });

  it('keys the flip variant and the params version separately', async () => {
    const pv = frozenParamsVersion(hst);
    const cache = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: pv });
    const f = computeFeatures(hst, [{ image: image(9), height: 32, width: 32 }])[0];
    await cache.put('hf', true, f);
    expect(cache.has('hf', true)).toBe(true);
    expect(cache.has('hf', false)).toBe(false);
    const other = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: 'another' });
    expect(other.has('hf', true)).toBe(false);
    expect(await other.get('hf', true)).toBeNull();
    const otherSize = new FeatureCache({ store, backbone: 'tiny', size: 64, paramsVersion: pv });
    expect(otherSize.has('hf', true)).toBe(false);
  });

  it('evicts least-recently-used entries to the byte budget', async () => {
    const p2 = createProject(join(dir, 'p2'));
    try {
      const f = computeFeatures(hst, [{ image: image(11), height: 32, width: 32 }])[0];
      const big = new FeatureCache({ store: p2, backbone: 'tiny', size: 32, paramsVersion: 'v' });
      await big.put('a', false, f);
      const one = p2.featureCache.stats().bytes;
      const cache = new FeatureCache({ store: p2, backbone: 'tiny', size: 32, paramsVersion: 'v', maxBytes: one * 2 + 10 });
      await cache.put('b', false, f);
      await new Promise((r) => setTimeout(r, 5));
      expect(await new FeatureCache({ store: p2, backbone: 'tiny', size: 32, paramsVersion: 'v' }).get('a')).not.toBeNull(); // touch a: b is now the oldest
      await new Promise((r) => setTimeout(r, 5));
      await cache.put('c', false, f);
      expect(p2.featureCache.stats().entries).toBe(2);
      expect(cache.has('b')).toBe(false);
      expect(cache.has('a')).toBe(true);
      expect(cache.has('c')).toBe(true);
      const files = readdirSync(join(p2.dir, 'cache', 'features'), { recursive: true }).filter((n) => String(n).endsWith('.safetensors'));
      expect(files.length).toBe(2);
    } finally {
      p2.close();
    }
  });

  it('treats a damaged cache file as a miss and drops its entry', async () => {
    const pv = frozenParamsVersion(hst);
    const cache = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: pv });
    const f = computeFeatures(hst, [{ image: image(13), height: 32, width: 32 }])[0];
    await cache.put('broken', false, f);
    const entry = store.featureCache.get(cache.key('broken', false))!;
    writeFileSync(join(store.dir, entry.path), 'not a safetensors file');
    const fresh = new FeatureCache({ store, backbone: 'tiny', size: 32, paramsVersion: pv });
    expect(await fresh.get('broken')).toBeNull();
    expect(store.featureCache.get(cache.key('broken', false))).toBeNull();
  });
});
