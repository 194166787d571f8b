// Without the token a browser gets a page saying how to get in, not raw JSON; API clients keep the JSON 401.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioService } from '../../src-main/core/app/studio-service';
import type { RunningServer } from '../../src-main/server/http-server';
import { startRealServer, type RealServer } from './real-server';

let tmp: string;
let srv: RunningServer;
let service: StudioService;

let server: RealServer;
beforeAll(async () => {
  server = await startRealServer('hst-login-', (dir) => {
    mkdirSync(join(dir, 'web'));
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>studio</title>');
    writeFileSync(join(dir, 'web', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  });
  ({ tmp, service, srv } = server);
});
afterAll(async () => {
  await server?.close();
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
