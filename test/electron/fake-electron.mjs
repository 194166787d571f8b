// A stand-in `electron` module for the bundle smoke test: records calls, fires `ready` on the next tick,
// then serves one app:// request through the registered handler and prints a JSON report on stdout.
const calls = [];
const ipc = [];
let protocolHandler = null;
let windowOptions = null;
let loadedUrl = null;
let readyResolve;
const ready = new Promise((r) => (readyResolve = r));

const on = () => app;
export const app = {
  isPackaged: true,
  requestSingleInstanceLock: () => (calls.push('lock'), true),
  quit: () => calls.push('quit'),
  exit: () => undefined,
  whenReady: () => ready,
  enableSandbox: () => calls.push('enableSandbox'),
  getPath: (n) => `${process.env.HST_FAKE_APPDATA}/${n}`,
  setPath: (n) => calls.push(`setPath:${n}`),
  setName: () => undefined,
  getVersion: () => '0.0.0-smoke',
  on,
};
export class BrowserWindow {
  constructor(options) {
    windowOptions = options;
    this.webContents = { on() {}, setWindowOpenHandler() {}, send() {}, isDestroyed: () => false, getURL: () => loadedUrl };
  }
  static getAllWindows() {
    return [];
  }
  loadURL(url) {
    loadedUrl = url;
    return Promise.resolve();
  }
  on() {
    return this;
  }
  once() {
    return this;
  }
  maximize() {}
  isDestroyed() {
    return false;
  }
  isVisible() {
    return true;
  }
}
export const ipcMain = { handle: (ch) => ipc.push(ch), removeHandler: () => undefined };
export const protocol = { registerSchemesAsPrivileged: (s) => calls.push(`schemes:${s.map((x) => x.scheme).join(',')}`), handle: () => undefined };
export const session = {
  defaultSession: {
    protocol: { handle: (scheme, fn) => ((protocolHandler = fn), calls.push(`handle:${scheme}`)) },
    webRequest: { onBeforeRequest: () => calls.push('onBeforeRequest'), onHeadersReceived: () => calls.push('onHeadersReceived') },
    setPermissionRequestHandler: () => calls.push('permissionRequest'),
    setPermissionCheckHandler: () => calls.push('permissionCheck'),
    setDevicePermissionHandler: () => undefined,
  },
};
export const Menu = { buildFromTemplate: (t) => t, setApplicationMenu: () => calls.push('menu') };
export const shell = { openExternal: async () => undefined };
export const dialog = { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) };
export const screen = { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] };
export default { app, BrowserWindow, ipcMain, protocol, session, Menu, shell, dialog, screen };

setTimeout(async () => {
  calls.push('ready');
  readyResolve();
  await new Promise((r) => setTimeout(r, 50));
  const res = protocolHandler ? await protocolHandler({ url: 'app://studio/index.html', method: 'GET' }) : null;
  const html = res ? await res.text() : '';
  process.stdout.write(
    JSON.stringify({ calls, ipc, loadedUrl, webPreferences: windowOptions?.webPreferences ?? null, indexStatus: res?.status ?? null, indexHasHtml: /<html/i.test(html), csp: res?.headers.get('content-security-policy') ?? null }),
  );
  process.exit(0);
}, 0);
