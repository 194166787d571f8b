// Smoke tests of the BUILT artifacts (what Electron will actually load), not the sources:
// - dist/main/electron/main.js runs as ESM under Node with a fake `electron` module and wires everything up;
// - dist/main/electron/preload.cjs runs in a bare VM context whose require() knows only `electron`, exactly
//   like Electron's sandboxed preload, and exposes the bridge.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { methods } from '../../src-main/contract/api';
import { contentSecurityPolicy } from '../../src-main/electron/csp';
import { secureWebPreferences } from '../../src-main/electron/web-preferences';

const root = process.cwd();
const mainJs = join(root, 'dist', 'main', 'electron', 'main.js');
const preloadCjs = join(root, 'dist', 'main', 'electron', 'preload.cjs');
const appData = mkdtempSync(join(tmpdir(), 'hst-smoke-'));
afterAll(() => rmSync(appData, { recursive: true, force: true }));

describe('built main process bundle', () => {
  it('is built (run `node scripts/build.mjs` first)', () => {
    expect(existsSync(mainJs)).toBe(true);
  });

  it('starts under a fake electron: pre-ready calls, protocol, IPC for every method, secure window, index.html with CSP', () => {
    const out = execFileSync(process.execPath, ['--import', join(root, 'test', 'electron', 'fake-electron-register.mjs'), mainJs], {
      encoding: 'utf8',
      env: { ...process.env, HST_FAKE_APPDATA: appData, HST_USER_DATA: join(appData, 'userData') },
      timeout: 60_000,
    });
    const r = JSON.parse(out);
    expect(r.calls.slice(0, 4)).toEqual(['enableSandbox', 'setPath:userData', 'lock', 'schemes:app']);
    expect(r.calls).toEqual(expect.arrayContaining(['ready', 'permissionRequest', 'permissionCheck', 'onBeforeRequest', 'handle:app', 'menu']));
    expect(r.calls.indexOf('ready')).toBeLessThan(r.calls.indexOf('handle:app'));
    expect([...r.ipc].sort()).toEqual(Object.keys(methods).sort());
    expect(r.loadedUrl).toBe('app://studio/index.html');
    expect(r.webPreferences).toEqual({ ...secureWebPreferences(join(root, 'dist', 'main', 'electron', 'preload.cjs'), { devTools: false }) });
    const rendererBuilt = existsSync(join(root, 'dist', 'renderer', 'index.html'));
    expect(r.indexStatus).toBe(rendererBuilt ? 200 : 404);
    if (rendererBuilt) expect(r.indexHasHtml).toBe(true);
    expect(r.csp).toBe(contentSecurityPolicy());
  });
});

describe('built sandboxed preload bundle', () => {
  it('requires nothing but electron and exposes exactly the bridge', async () => {
    const code = readFileSync(preloadCjs, 'utf8');
    const exposed: Record<string, unknown> = {};
    const invoked: [string, unknown][] = [];
    const required: string[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) },
      ipcRenderer: {
        invoke: async (ch: string, input: unknown) => (invoked.push([ch, input]), { ok: true, value: 'pong' }),
        on: () => undefined,
        removeListener: () => undefined,
      },
      webUtils: { getPathForFile: () => '/x' },
    };
    const sandboxRequire = (m: string) => {
      required.push(m);
      if (m === 'electron') return electron;
      throw new Error(`module not found: ${m} (sandboxed preloads can only require electron)`);
    };
    const module = { exports: {} };
    // A fresh context: no Node globals at all besides what the sandbox also provides.
    vm.runInNewContext(code, { require: sandboxRequire, module, exports: module.exports, console, setTimeout, clearTimeout, queueMicrotask }, { filename: 'preload.cjs' });
    expect(required).toEqual(['electron']);
    expect(Object.keys(exposed)).toEqual(['hst']);
    const hst = exposed.hst as { api: Record<string, (i: unknown) => Promise<unknown>> };
    expect(Object.keys(hst.api).sort()).toEqual(Object.keys(methods).sort());
    expect(await hst.api['project.open']({ dir: '/p' })).toBe('pong');
    expect(invoked).toEqual([['project.open', { dir: '/p' }]]);
  });
});
