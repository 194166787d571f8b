// The studio's backbone manager API against a local HTTP server on 127.0.0.1: a download job with progress,
// cancel in the middle (the partial file is kept and offered as a resume), the resume with an HTTP Range request
// and the checksum recorded, the plain offline error, import from a file, the default, remove.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methods, type EventName } from '../../../src-main/contract/api';
import { BackboneService } from '../../../src-main/core/app/backbone-service';
import { initCompute } from '../../../src-main/core/compute/engine';
import { serializeSafetensors } from '../../../src-main/core/io/safetensors';
import { createRandomHst } from '../../../src-main/core/model/hst';
import { exportState } from '../../../src-main/core/model/weights';

const ID = 'vit-tiny-16-augreg-in21k';
let bytes: Uint8Array;
let sha: string;
let server: Server;
let base: string;
let stall = false;
const ranges: (string | undefined)[] = [];

type Ev = { event: EventName; payload: Record<string, unknown> };

function service(events: Ev[], target: () => string) {
  const dir = mkdtempSync(join(tmpdir(), 'hst-bb-svc-'));
  // every catalogue URL goes to the local server (or a closed port): real HTTP, no internet
  const fetchImpl: typeof fetch = (_url, init) => fetch(target(), init);
  return { dir, svc: new BackboneService((event, payload) => events.push({ event, payload: payload as Record<string, unknown> }), () => dir, fetchImpl) };
}

function done(events: Ev[], jobId: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const d = events.find((e) => e.event === 'job.done' && e.payload.jobId === jobId);
      if (d) return resolve(d.payload);
      if (Date.now() - t0 > 20_000) return reject(new Error('job did not finish'));
      setTimeout(poll, 20);
    };
    poll();
  });
}

beforeAll(async () => {
  await initCompute({ backend: 'cpu' });
  const m = createRandomHst({ img_size: 32, patch_size: 16, embed_dim: 64, depth: 4, num_heads: 1, m_embed_dims: [8, 8, 8, 8], m_c_num_heads: [1, 1, 1, 1] }, 3);
  bytes = serializeSafetensors(exportState(m, (e) => e.backbone), { format: 'pt' });
  m.dispose();
  sha = createHash('sha256').update(bytes).digest('hex');
  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const r = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = r ? Number(r[1]) : 0;
    const body = Buffer.from(bytes.subarray(start));
    res.writeHead(r ? 206 : 200, { 'content-length': body.length, ...(r ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}) });
    if (stall) {
      // half now, the rest never: the client has to cancel
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.safetensors`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('backbones.* (the studio\'s backbone manager)', () => {
  it('cancel keeps the partial file and offers a resume; the resume sends a Range request, checks the file and installs it as the default', async () => {
    const events: Ev[] = [];
    const { svc } = service(events, () => base);
    const list0 = methods['backbones.list'].output.parse(await svc.handlers['backbones.list']({}));
    expect(list0.installed).toEqual([]);
    expect(list0.recommended).toBe(ID); // a CPU backend: ViT-Ti
    expect(list0.catalogue.find((c) => c.id === ID)).toMatchObject({ installed: false, partialBytes: 0, licence: 'Apache-2.0', goodFor: expect.stringMatching(/CPU/) });

    stall = true;
    const { jobId } = await svc.handlers['backbones.download']({ id: ID });
    // wait for the first half to arrive, then cancel
    const t0 = Date.now();
    while (!events.some((e) => e.event === 'job.progress' && e.payload.jobId === jobId) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(svc.jobs.cancel(jobId)).toBe(true);
    const cancelled = await done(events, jobId);
    expect(cancelled).toMatchObject({ kind: 'backbone', status: 'cancelled' });
    expect(String(cancelled.message)).toMatch(/cancelled after \d+ bytes \(kept: download again to resume\)/);
    const list1 = await svc.handlers['backbones.list']({});
    const kept = list1.catalogue.find((c) => c.id === ID)!.partialBytes;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(Math.floor(bytes.length / 2));
    expect(list1.installed).toEqual([]);

    stall = false;
    ranges.length = 0;
    const again = await svc.handlers['backbones.download']({ id: ID });
    const ok = await done(events, again.jobId);
    expect(ok).toMatchObject({ status: 'ok' });
    expect(ranges).toEqual([`bytes=${kept}-`]);
    const progress = events.filter((e) => e.event === 'job.progress' && e.payload.jobId === again.jobId).map((e) => String(e.payload.message));
    expect(progress.some((m) => /resumed at/.test(m))).toBe(true);
    const list2 = methods['backbones.list'].output.parse(await svc.handlers['backbones.list']({}));
    expect(list2.installed).toHaveLength(1);
    expect(list2.installed[0]).toMatchObject({ id: ID, sha256: sha, bytes: bytes.length, isDefault: true, source: 'download', embedDim: 64 });
    expect(list2.catalogue.find((c) => c.id === ID)).toMatchObject({ installed: true, partialBytes: 0 });
  });

  it('offline: the error says so plainly and offers the file import', async () => {
    const events: Ev[] = [];
    // a port that was just free: nothing listens there
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { svc } = service(events, () => `http://127.0.0.1:${port}/model.safetensors`);
    const { jobId } = await svc.handlers['backbones.download']({ id: ID });
    const d = await done(events, jobId);
    expect(d.status).toBe('error');
    expect(String(d.message)).toMatch(/^cannot reach huggingface\.co \(ECONNREFUSED\): this computer seems to be offline\./);
    expect(String(d.message)).toMatch(/import the file \(Import from file, or `hst-studio backbone import FILE --id vit-tiny-16-augreg-in21k`\)/);
  });

  it('imports a file (path or upload), picks the default, removes; bad files get a sentence', async () => {
    const events: Ev[] = [];
    const { svc, dir } = service(events, () => base);
    const f = join(dir, 'my-vit.safetensors');
    writeFileSync(f, bytes);
    const a = methods['backbones.import'].output.parse(await svc.handlers['backbones.import']({ path: f }));
    expect(a).toMatchObject({ id: 'my-vit', source: 'import', isDefault: true, sha256: sha });
    const b = await svc.importUpload('second.safetensors', Buffer.from(bytes));
    expect(b).toMatchObject({ id: 'second', isDefault: false });
    await svc.handlers['backbones.setDefault']({ id: 'second' });
    expect((await svc.handlers['backbones.list']({})).default).toBe('second');
    await svc.handlers['backbones.remove']({ id: 'second' });
    const after = await svc.handlers['backbones.list']({});
    expect(after.installed.map((x) => x.id)).toEqual(['my-vit']);
    expect(after.default).toBe('my-vit'); // the removed default falls back to the first installed
    await expect(svc.importUpload('notes.txt', Buffer.from('hi'))).rejects.toThrow(/is not a \.safetensors file/);
    writeFileSync(join(dir, 'junk.safetensors'), 'not a safetensors file');
    await expect(svc.handlers['backbones.import']({ path: join(dir, 'junk.safetensors') })).rejects.toThrow(/junk\.safetensors could not be imported as a backbone/);
    await expect(svc.handlers['backbones.remove']({ id: 'nope' })).rejects.toThrow(/no backbone 'nope' is installed/);
    await expect(svc.handlers['backbones.download']({ id: 'nope' })).rejects.toThrow(/not in the backbone catalogue/);
  });
});
