/* eslint-disable @typescript-eslint/no-explicit-any */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { StudioService } from '../../src-main/core/app/studio-service';
import { RecentList } from '../../src-main/core/app/recent';
import { startServer, type RunningServer } from '../../src-main/server/http-server';
import { fakeStore } from './fake-store';

let tmp: string;
let srv: RunningServer;
let service: StudioService;

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(srv.url + path.replace(/^\//, ''), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const auth = () => ({ authorization: `Bearer ${srv.token}` });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-server-test-'));
  const web = join(tmp, 'web');
  mkdirSync(web);
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>studio</title>');
  writeFileSync(join(tmp, 'secret.txt'), 'do not serve');
  const img = join(tmp, 'img.png');
  await sharp({ create: { width: 600, height: 400, channels: 3, background: '#808080' } }).png().toFile(img);
  const store = fakeStore(join(tmp, 'proj'), img);
  store.images[0] = { ...store.images[0], width: 600, height: 400 };
  service = new StudioService({
    mode: 'server',
    stores: { create: () => store, open: () => store },
    doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'x', extraKernels: [], notes: [] }),
    recent: new RecentList(join(tmp, 'recent.json')),
  });
  await service.openAtStart(join(tmp, 'proj'));
  srv = await startServer({ service, staticDir: web, port: 0 });
});

afterAll(async () => {
  await srv?.close();
  service?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('http server', () => {
  it('refuses a request without the token with 401', async () => {
    const res = await post('/api/app.info', {});
    expect(res.status).toBe(401);
    expect((await fetch(srv.url)).status).toBe(401);
    expect((await post('/api/app.info', {}, { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('answers a valid call with the token', async () => {
    const res = await post('/api/app.info', {}, auth());
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.mode).toBe('server');
    expect(body.project.name).toBe('fake');
  });

  it('rejects a malformed payload with 400 naming the field', async () => {
    const bad = {
      changeset: {
        created: [{ id: 'a1', imageId: 1, classId: 1, geometry: { kind: 'box', x: 0, y: 0, w: -5, h: 2 }, createdAt: 1, updatedAt: 1 }],
      },
    };
    const res = await post('/api/annotations.apply', bad, auth());
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.field).toBe('changeset.created[0].geometry.w');
    expect(body.error.message).toContain('changeset.created[0].geometry.w');
  });

  it('rejects invalid JSON and unknown methods readably', async () => {
    const res = await fetch(srv.url + 'api/app.info', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{nope' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(/not valid JSON/);
    expect((await post('/api/nope.nothing', {}, auth())).status).toBe(404);
  });

  it('trades the query token for a cookie and redirects', async () => {
    const res = await fetch(srv.loginUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/hst_token=.*HttpOnly/);
    const page = await fetch(srv.url, { headers: { cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('lets the printed URL in over a stale cookie from an earlier run (cookies ignore ports)', async () => {
    const stale = { cookie: 'hst_token=left-by-an-earlier-server' };
    expect((await fetch(srv.url, { headers: stale })).status).toBe(401);
    const res = await fetch(srv.loginUrl, { headers: stale, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('set-cookie') ?? '').toContain(`hst_token=${encodeURIComponent(srv.token)}`);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%5c..%5csecret.txt', '/%00index.html']) {
      const res = await fetch(srv.url.slice(0, -1) + p, { headers: auth() });
      expect(res.status, p).not.toBe(200);
      expect(await res.text()).not.toContain('do not serve');
    }
  });

  it('serves media only by numeric image id, with pyramid levels', async () => {
    expect((await fetch(srv.url + 'media/image/..%2F..%2Fsecret.txt', { headers: auth() })).status).toBe(400);
    expect((await fetch(srv.url + 'media/image/99', { headers: auth() })).status).toBe(404);
    const small = await fetch(srv.url + 'media/image/1?max=300', { headers: auth() });
    expect(small.status).toBe(200);
    const meta = await sharp(Buffer.from(await small.arrayBuffer())).metadata();
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBe(512); // next power of two ≥ 300, below 600
    const full = await fetch(srv.url + 'media/image/1', { headers: auth() });
    expect((await sharp(Buffer.from(await full.arrayBuffer())).metadata()).width).toBe(600);
  });

  it('refuses cross-origin API calls even with the token', async () => {
    const res = await post('/api/app.info', {}, { ...auth(), origin: 'http://evil.example' });
    expect(res.status).toBe(403);
  });

  it('pushes events over the WebSocket only with the token', async () => {
    const wsUrl = srv.url.replace('http', 'ws') + 'events';
    const denied = new WebSocket(wsUrl);
    const deniedResult = await new Promise<string>((r) => {
      denied.on('open', () => r('open'));
      denied.on('error', () => r('error'));
    });
    expect(deniedResult).toBe('error');
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${srv.token}` } });
    await new Promise((r) => ws.on('open', r));
    const got = new Promise<{ event: string; payload: { revision: number } }>((r) => ws.on('message', (d) => r(JSON.parse(String(d)))));
    const now = Date.now();
    const res = await post('/api/annotations.apply', { changeset: { created: [{ id: 'b1', imageId: 1, classId: 1, geometry: { kind: 'box', x: 0, y: 0, w: 1, h: 1 }, createdAt: now, updatedAt: now }] } }, auth());
    expect(res.status).toBe(200);
    const msg = await got;
    expect(msg.event).toBe('project.changed');
    expect(msg.payload.revision).toBeGreaterThan(0);
    ws.close();
  });

  it('refuses to listen on a non-loopback host without --allow-remote', async () => {
    await expect(startServer({ service, staticDir: tmp, host: '0.0.0.0', port: 0 })).rejects.toThrow(/allow-remote/);
  });
});
