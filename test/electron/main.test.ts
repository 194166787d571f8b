// main.ts wired against a mocked `electron` module: checks the order of pre-ready calls and that every
// security decision from the pure modules is actually applied to the real objects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { methods } from '../../src-main/contract/api';
import { denyPermissionCheck, denyPermissionRequest } from '../../src-main/electron/navigation';
import { privilegedSchemes } from '../../src-main/electron/protocol';
import { secureWebPreferences } from '../../src-main/electron/web-preferences';
import { FakeEvent, FakeWebContents } from './fakes';

const appData = mkdtempSync(join(tmpdir(), 'hst-main-'));
afterAll(() => rmSync(appData, { recursive: true, force: true }));

interface Mock {
  calls: string[];
  ready: () => void;
  readyPromise: Promise<void>;
  lock: boolean;
  appHandlers: Map<string, (...a: any[]) => void>;
  windows: { options: any; url?: string; wc: FakeWebContents }[];
  ipc: Map<string, unknown>;
  protocolHandlers: Map<string, (r: { url: string; method: string }) => Promise<Response>>;
  session: Record<string, unknown>;
  menu: unknown;
}

const m = vi.hoisted(() => ({ current: null as unknown as Mock }));

// The factory runs once; every function reads the current test's state through `S()`.
vi.mock('electron', () => {
  const S = () => m.current;
  const app = {
    isPackaged: true,
    requestSingleInstanceLock: () => (S().calls.push('requestSingleInstanceLock'), S().lock),
    quit: () => S().calls.push('quit'),
    exit: () => S().calls.push('exit'),
    whenReady: () => S().readyPromise.then(() => void S().calls.push('ready')),
    enableSandbox: () => S().calls.push('enableSandbox'),
    getPath: (n: string) => (n === 'appData' ? appData : join(appData, 'HST Studio')),
    setPath: (n: string, p: string) => S().calls.push(`setPath ${n} ${p}`),
    setName: (n: string) => S().calls.push(`setName ${n}`),
    getVersion: () => '0.1.0',
    on: (ev: string, fn: (...a: any[]) => void) => (S().appHandlers.set(ev, fn), app),
  };
  class BrowserWindow {
    webContents = new FakeWebContents();
    rec: Mock['windows'][number];
    constructor(options: unknown) {
      this.rec = { options, wc: this.webContents };
      S().windows.push(this.rec);
      S().calls.push('new BrowserWindow');
    }
    static getAllWindows = () => S().windows;
    loadURL = async (url: string) => void (this.rec.url = url);
    on = () => this;
    once = () => this;
    show() {}
    focus() {}
    restore() {}
    isMinimized = () => false;
    isMaximized = () => false;
    isFullScreen = () => false;
    maximize() {}
    isDestroyed = () => false;
    isVisible = () => true;
    getNormalBounds = () => ({ x: 0, y: 0, width: 1200, height: 800 });
  }
  const session = {
    protocol: { handle: (scheme: string, fn: any) => (S().protocolHandlers.set(scheme, fn), S().calls.push(`protocol.handle ${scheme}`)) },
    webRequest: { onBeforeRequest: (fn: unknown) => (S().session.filter = fn), onHeadersReceived: (fn: unknown) => (S().session.headers = fn) },
    setPermissionRequestHandler: (h: unknown) => (S().session.request = h),
    setPermissionCheckHandler: (h: unknown) => (S().session.check = h),
    setDevicePermissionHandler: (h: unknown) => (S().session.device = h),
  };
  return {
    app,
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: unknown) => S().ipc.set(ch, fn), removeHandler: (ch: string) => S().ipc.delete(ch) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown) => (S().calls.push('registerSchemesAsPrivileged'), (S().session.schemes = schemes)),
      handle: () => undefined,
    },
    session: { defaultSession: session },
    Menu: { buildFromTemplate: (t: unknown) => ({ t }), setApplicationMenu: (menu: unknown) => (S().menu = menu) },
    shell: { openExternal: async () => undefined },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
  };
});

function fresh(lock = true): Mock {
  let ready = () => undefined as void;
  const readyPromise = new Promise<void>((r) => (ready = r));
  m.current = { calls: [], ready: () => ready(), readyPromise, lock, appHandlers: new Map(), windows: [], ipc: new Map(), protocolHandlers: new Map(), session: {}, menu: null };
  return m.current;
}

const flush = () => new Promise((r) => setTimeout(r, 20));

describe('main process wiring (electron mocked)', () => {
  beforeEach(() => vi.resetModules());

  it('before ready: sandbox for all renderers, userData pinned, single-instance lock, app:// registered', async () => {
    const s = fresh();
    await import('../../src-main/electron/main');
    expect(s.calls).toEqual(['enableSandbox', 'setName HST Studio', `setPath userData ${join(appData, 'HST Studio')}`, 'requestSingleInstanceLock', 'registerSchemesAsPrivileged']);
    expect(s.session.schemes).toEqual(privilegedSchemes());
    expect(s.windows).toEqual([]);
  });

  it('a second instance quits without creating anything', async () => {
    const s = fresh(false);
    await import('../../src-main/electron/main');
    s.ready();
    await flush();
    expect(s.calls).toContain('quit');
    expect(s.calls).not.toContain('registerSchemesAsPrivileged');
    expect(s.windows).toEqual([]);
    expect(s.ipc.size).toBe(0);
  });

  it('after ready: locked-down session, protocol, IPC for every method, one secure window on app://studio', async () => {
    const s = fresh();
    await import('../../src-main/electron/main');
    s.ready();
    await flush();
    // (modules are reloaded per test, so compare behaviour, not function identity)
    const granted = vi.fn();
    (s.session.request as typeof denyPermissionRequest)({} as never, 'media', granted, {});
    expect(granted).toHaveBeenCalledWith(false);
    expect((s.session.check as typeof denyPermissionCheck)(null, 'notifications', 'app://studio', {})).toBe(false);
    expect(typeof s.session.filter).toBe('function');
    expect([...s.protocolHandlers.keys()]).toEqual(['app']);
    expect([...s.ipc.keys()].sort()).toEqual(Object.keys(methods).sort());
    expect(s.menu).not.toBeNull();
    expect(s.windows.length).toBe(1);
    const [w] = s.windows;
    expect(w.url).toBe('app://studio/index.html');
    expect(w.options.webPreferences).toEqual(secureWebPreferences(join(process.cwd(), 'dist', 'main', 'electron', 'preload.cjs'), { devTools: false }));
    // Protocol handler, IPC and window all exist only after ready.
    expect(s.calls.indexOf('ready')).toBeLessThan(s.calls.indexOf('protocol.handle app'));
    expect(s.calls.indexOf('ready')).toBeLessThan(s.calls.indexOf('new BrowserWindow'));
  });

  it('every WebContents created gets navigation, window-open and webview guards', async () => {
    const s = fresh();
    await import('../../src-main/electron/main');
    const wc = new FakeWebContents();
    s.appHandlers.get('web-contents-created')?.(new FakeEvent(), wc);
    const nav = new FakeEvent();
    wc.emit('will-navigate', nav, 'https://evil.example/');
    expect(nav.defaultPrevented).toBe(true);
    expect(wc.openHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    const wv = new FakeEvent();
    wc.emit('will-attach-webview', wv, {}, {});
    expect(wv.defaultPrevented).toBe(true);
  });

  it('the registered app:// handler refuses traversal and IPC refuses a foreign sender', async () => {
    const s = fresh();
    await import('../../src-main/electron/main');
    s.ready();
    await flush();
    const handler = s.protocolHandlers.get('app');
    expect((await handler?.({ url: 'app://studio/%2e%2e/package.json', method: 'GET' }))?.status).toBe(403);
    const invoke = s.ipc.get('app.info') as (e: unknown, ...a: unknown[]) => Promise<{ ok: boolean; error?: { status: number } }>;
    const top = { url: 'https://evil.example/', parent: null, routingId: 1, processId: 1 };
    expect(await invoke({ sender: { mainFrame: top }, senderFrame: top }, {})).toMatchObject({ ok: false, error: { status: 403 } });
  });

  it('--project opens that project at start; the renderer sees it through real IPC → StudioService → store', async () => {
    const dir = join(appData, 'proj');
    const { createProject } = await import('../../src-main/core/store/project');
    createProject(dir, { name: 'Cats' }).close();
    const savedArgv = process.argv;
    process.argv = [savedArgv[0], 'main.js', '--project', dir];
    try {
      const s = fresh();
      await import('../../src-main/electron/main');
      s.ready();
      await flush();
      await new Promise((r) => setTimeout(r, 100));
      const invoke = s.ipc.get('app.info') as (e: unknown, ...a: unknown[]) => Promise<{ ok: boolean; value: { mode: string; project: { dir: string; name: string } | null } }>;
      const top = { url: 'app://studio/index.html', parent: null, routingId: 1, processId: 1 };
      const r = await invoke({ sender: { mainFrame: top }, senderFrame: top }, {});
      expect(r.ok).toBe(true);
      expect(r.value.mode).toBe('electron');
      expect(r.value.project).toMatchObject({ dir, name: 'Cats' });
      s.appHandlers.get('before-quit')?.();
    } finally {
      process.argv = savedArgv;
    }
  });
});
