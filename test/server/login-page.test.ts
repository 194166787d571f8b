// Without the token a browser gets a page saying how to get in, not raw JSON; API clients keep the JSON 401.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';
import { startServer, type RunningServer } from '../../src-main/server/http-server';

let tmp: string;
let srv: RunningServer;
let service: StudioService;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-login-'));
  mkdirSync(join(tmp, 'web'));
  writeFileSync(join(tmp, 'web', 'index.html'), '<!doctype html><title>studio</title>');
  writeFileSync(join(tmp, 'web', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  service = new StudioService({ mode: 'server', stores: sqliteStores, doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'x', extraKernels: [], notes: [] }), recent: new RecentList(join(tmp, 'recent.json')) });
  srv = await startServer({ service, staticDir: join(tmp, 'web'), port: 0 });
});
afterAll(async () => {
  await srv?.close();
  service?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the studio URL without its token', () => {
  it('shows a browser a page that says how to get in', async () => {
    const res = await fetch(srv.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('hst-studio serve');
    expect(html).toContain('?token=');
    expect(html).not.toContain(srv.token);
  });
  it('keeps the JSON 401 for API calls and scripts', async () => {
    const api = await fetch(srv.url + 'api/app.info', { method: 'POST', headers: { accept: 'text/html' }, body: '{}' });
    expect(api.status).toBe(401);
    expect(api.headers.get('content-type')).toContain('application/json');
    expect((await fetch(srv.url, { headers: { accept: 'application/json' } })).headers.get('content-type')).toContain('application/json');
  });
  it('serves the favicon the page links to (with the session cookie)', async () => {
    const res = await fetch(srv.url + 'favicon.svg', { headers: { authorization: `Bearer ${srv.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
  });
});
