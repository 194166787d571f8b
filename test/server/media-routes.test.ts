// Media URLs name their content: after switching projects, project A's cached "image 1" URL can never be
// answered with (or mistaken for) project B's image 1 (issue 18).
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../src-main/contract/schemas';
import { imageMediaUrl, thumbMediaUrl } from '../../src-main/contract/media-url';
import type { StudioService } from '../../src-main/core/app/studio-service';
import type { RunningServer } from '../../src-main/server/http-server';
import { startRealServer, type RealServer } from './real-server';

let tmp: string;
let srv: RunningServer;
let service: StudioService;
const auth = () => ({ authorization: `Bearer ${srv.token}` });
const get = (rel: string) => fetch(srv.url + rel, { headers: auth() });

async function projectWith(name: string, colour: string): Promise<ImageRecord> {
  const file = join(tmp, `${name}.png`);
  await sharp({ create: { width: 300, height: 200, channels: 3, background: colour } }).png().toFile(file);
  await service.call('project.create', { dir: join(tmp, name) });
  const { jobId } = (await service.call('images.import', { paths: [file] })) as { jobId: string };
  await new Promise<void>((done) => {
    const off = service.subscribe((e, p) => {
      if (e === 'job.done' && (p as { jobId: string }).jobId === jobId) (off(), done());
    });
  });
  return ((await service.call('images.get', { id: 1 })) as ImageRecord);
}

const red = async (res: Response) => (await sharp(Buffer.from(await res.arrayBuffer())).raw().toBuffer())[0];

let server: RealServer;
beforeAll(async () => {
  server = await startRealServer('hst-media-');
  ({ tmp, service, srv } = server);
});
afterAll(async () => {
  await server?.close();
});

describe('media URLs across projects', () => {
  it('gives image 1 of two projects different URLs, refuses the other project\'s version, caches only versioned URLs', async () => {
    const a = await projectWith('a', '#ff0000');
    const b = await projectWith('b', '#0000ff'); // b is open now
    expect(a.id).toBe(1);
    expect(b.id).toBe(1);
    expect(imageMediaUrl(a)).not.toBe(imageMediaUrl(b));
    expect(thumbMediaUrl(a)).not.toBe(thumbMediaUrl(b));

    const bRes = await get(imageMediaUrl(b));
    expect(bRes.status).toBe(200);
    expect(bRes.headers.get('cache-control')).toContain('immutable');
    expect(await red(bRes)).toBeLessThan(20); // blue
    // project A's URL while B is open: refused, never B's pixels under A's URL
    expect((await get(imageMediaUrl(a, 256))).status).toBe(404);
    expect((await get(thumbMediaUrl(a))).status).toBe(404);
    // an unversioned URL still answers, but must not be cached (it would be ambiguous across projects)
    const plain = await get('media/image/1');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('no-store');

    await service.call('project.open', { dir: join(tmp, 'a') });
    const aRes = await get(imageMediaUrl(a));
    expect(aRes.status).toBe(200);
    expect(await red(aRes)).toBeGreaterThan(230);
    expect((await get(imageMediaUrl(b))).status).toBe(404);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const a = (await service.call('images.get', { id: 1 })) as ImageRecord;
    const head = await fetch(srv.url + thumbMediaUrl(a), { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(200);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(srv.url + thumbMediaUrl(a), { method: 'POST', headers: auth() })).status).toBe(405);
  });
});
