// Backbone manager against a local HTTP server: download with progress, Range resume after an interrupted
// transfer, checksum mismatch, import, list/remove, and building a model on the installed weights.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogueEntry } from '../../../src-main/core/backbones/catalogue';
import { CATALOGUE } from '../../../src-main/core/backbones/catalogue';
import { BackboneManager } from '../../../src-main/core/backbones/manager';
import { buildHstWithBackbone, configForBackbone } from '../../../src-main/core/backbones/use';
import { initCompute, tf } from '../../../src-main/core/compute/engine';
import { serializeSafetensors } from '../../../src-main/core/io/safetensors';
import { createRandomHst } from '../../../src-main/core/model/hst';
import { exportState } from '../../../src-main/core/model/weights';

let bytes: Uint8Array;
let sha: string;
let server: Server;
let base: string;
const log: { range: string | undefined }[] = [];
let mode: 'ok' | 'cut-first' = 'ok';
let served = 0;

function tinyBackbone(): Uint8Array {
  const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 16, depth: 4, num_heads: 2, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 1, 1] }, 11);
  const state = exportState(m, (e) => e.backbone);
  // a timm checkpoint also carries its own head, which the importer must ignore
  state.set('head.weight', { dtype: 'F32', shape: [3, 16], data: new Uint8Array(3 * 16 * 4) });
  m.dispose();
  return serializeSafetensors(state, { format: 'pt' });
}

const entry = (id: string, sha256: string | null, path = '/model.safetensors'): CatalogueEntry => ({
  ...CATALOGUE[0], id, url: `${base}${path}`, sha256, approxBytes: bytes.length, shape: 'vit-tiny-16',
});

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
  bytes = tinyBackbone();
  sha = createHash('sha256').update(bytes).digest('hex');
  server = createServer((req, res) => {
    log.push({ range: req.headers.range });
    if (req.url === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login required</html>');
      return;
    }
    if (req.url !== '/model.safetensors') return void res.writeHead(404).end();
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = Buffer.from(bytes.subarray(start));
    if (m) res.writeHead(206, { 'content-length': body.length, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` });
    else res.writeHead(200, { 'content-length': body.length });
    served++;
    if (mode === 'cut-first' && served === 1) {
      // send a bit more than half, then drop the connection
      res.write(body.subarray(0, Math.floor(body.length / 2) + 5), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('backbone manager', () => {
  it('downloads with progress, verifies sha256, lists and builds a model on it', async () => {
    const mgr = new BackboneManager(mkdtempSync(join(tmpdir(), 'bb-')));
    const progress: number[] = [];
    const m = await mgr.download(entry('tiny-ok', sha), { onProgress: (p) => progress.push(p.received), numHeads: 2 });
    expect(m.sha256).toBe(sha);
    expect(m.bytes).toBe(bytes.length);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(m.shape).toMatchObject({ embed_dim: 16, depth: 4, patch_size: 16, img_size: 32 });
    expect((await mgr.list()).map((x) => x.id)).toEqual(['tiny-ok']);
    expect(await mgr.verify('tiny-ok')).toBe(true);

    const cfg = configForBackbone(m, 'classification', { m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 1, 1] });
    const model = await buildHstWithBackbone(cfg, 'tiny-ok', mgr);
    expect(model.backboneSource).toMatchObject({ kind: 'pretrained', name: 'tiny-ok', sha256: sha });
    const ref = createRandomHst(cfg, 11); // same seed as the served checkpoint
    expect(Array.from(model.store.get('blocks.2.attn.qkv.weight').dataSync())).toEqual(Array.from(ref.store.get('blocks.2.attn.qkv.weight').dataSync()));
    const random = await buildHstWithBackbone(cfg, 'random', mgr);
    expect(random.backboneSource).toEqual({ kind: 'random', label: 'random (untrained) backbone' });
    [model, ref, random].forEach((x) => x.dispose());
  });

  it('resumes an interrupted download with an HTTP Range request', async () => {
    const mgr = new BackboneManager(mkdtempSync(join(tmpdir(), 'bb-')));
    mode = 'cut-first';
    served = 0;
    log.length = 0;
    try {
      await expect(mgr.download(entry('tiny-resume', sha), { numHeads: 2 })).rejects.toThrow(/interrupted|ended at|run the download again/);
      const part = join(mgr.dir, 'tiny-resume.safetensors.part');
      const kept = statSync(part).size;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(bytes.length);
      const m = await mgr.download(entry('tiny-resume', sha), { numHeads: 2 });
      expect(log.at(-1)!.range).toBe(`bytes=${kept}-`);
      expect(m.sha256).toBe(sha);
      expect(existsSync(part)).toBe(false);
    } finally {
      mode = 'ok';
    }
  });

  it('discards a download whose checksum does not match, and a non-safetensors response', async () => {
    const mgr = new BackboneManager(mkdtempSync(join(tmpdir(), 'bb-')));
    await expect(mgr.download(entry('tiny-bad', '0'.repeat(64)))).rejects.toThrow(/checksum mismatch.*discarded/);
    expect(await mgr.list()).toEqual([]);
    expect(existsSync(join(mgr.dir, 'tiny-bad.safetensors.part'))).toBe(false);
    await expect(mgr.download(entry('tiny-html', null, '/html'))).rejects.toThrow(/not a valid safetensors file/);
    await expect(mgr.download(entry('tiny-404', null, '/missing'))).rejects.toThrow(/HTTP 404/);
  });

  it('imports a local file, refuses a non-ViT file, removes, and says how to get a missing backbone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-'));
    const mgr = new BackboneManager(dir);
    const f = join(dir, 'My ViT.safetensors');
    writeFileSync(f, bytes);
    const m = await mgr.import(f, { numHeads: 2 });
    expect(m.id).toBe('my-vit');
    expect(m.sha256).toBe(sha);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, serializeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Uint8Array(4) } }));
    await expect(mgr.import(junk)).rejects.toThrow(/missing tensor 'patch_embed\.proj\.weight'/);
    expect(await mgr.remove('my-vit')).toBe(true);
    expect(await mgr.list()).toEqual([]);
    await expect(mgr.require('vit-small-16-augreg-in21k')).rejects.toThrow(/not installed: download it with `hst-studio backbone download vit-small-16-augreg-in21k`/);
    await expect(mgr.require('../etc')).rejects.toThrow(/not a valid backbone id/);
  });
});
