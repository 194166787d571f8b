// Electron main process. Everything security-relevant is decided in small pure modules next to this file
// (web-preferences, csp, protocol, ipc, navigation, window-state, menu) and only wired up here.
// Electron is obtained with a runtime import() viewed through our own type slice (electron-types.ts), so
// this file type-checks and bundles where the optional `electron` package is absent.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { events } from '../contract/api';
import { findPackageRoot } from '../core/store/native-binding';
import { parseAppArgs } from './app-args';
import type { BrowserWindow, ElectronMain, MenuItemConstructorOptions } from './electron-types';
import { createEventForwarder, registerIpc } from './ipc';
import { buildMenuTemplate, type RendererCommand } from './menu';
import { hardenSession, hardenWebContents } from './navigation';
import { APP_ENTRY_URL, APP_SCHEME } from './origin';
import { createAppProtocolHandler, privilegedSchemes } from './protocol';
import { createElectronStudio, type ElectronStudio } from './studio';
import { TrainerHost } from './trainer-host';
import { windowFrameOptions } from './web-preferences';
import { captureWindowState, loadWindowState, saveWindowState } from './window-state';

const ELECTRON_MODULE = 'electron';
const mod = (await import(ELECTRON_MODULE)) as ElectronMain & { default?: ElectronMain };
const electron: ElectronMain = mod.app ? mod : (mod.default as ElectronMain);
const { app, BrowserWindow, ipcMain, protocol, session, Menu, dialog, screen } = electron;

// The package root (works from dist/, from app.asar and from the sources under a test runner).
const root = findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();
const rendererDir = join(root, 'dist', 'renderer');
const preloadPath = join(root, 'dist', 'main', 'electron', 'preload.cjs');
const devTools = !app.isPackaged || process.env.HST_DEVTOOLS === '1';
const log = (msg: string) => console.warn(`[hst-studio] ${msg}`);

// ---- before ready: Electron emits 'ready' only after this ESM entry (top-level await included) has run ----
app.enableSandbox();
app.setName('HST Studio');
// Run as `electron dist/main/electron/main.js`, Electron would call the app "Electron": pin userData.
// HST_USER_DATA isolates end-to-end tests from the user's real settings.
app.setPath('userData', process.env.HST_USER_DATA || join(app.getPath('appData'), 'HST Studio'));
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  protocol.registerSchemesAsPrivileged(privilegedSchemes());
  start();
}

function start(): void {
  let win: BrowserWindow | null = null;
  let studio: ElectronStudio | null = null;
  let trainer: TrainerHost | null = null;
  const stateFile = join(app.getPath('userData'), 'window-state.json');

  const forward = createEventForwarder(() => (win && !win.isDestroyed() ? [win.webContents] : []), { log });
  const sendCommand = (command: RendererCommand, arg?: string) => {
    // Menu commands ride the contract's `app.command` event once the contract defines it.
    if (!Object.prototype.hasOwnProperty.call(events, 'app.command')) return log(`menu command ${command}: the contract has no app.command event yet`);
    forward('app.command', { command, ...(arg ? { path: arg } : {}) });
  };

  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  // Applies to every WebContents ever created (the window, devtools, anything a bug might spawn).
  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents, { log }));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', () => {
    void trainer?.close();
    studio?.close();
  });

  const createWindow = () => {
    const workAreas = screen.getAllDisplays().map((d) => d.workArea);
    const state = loadWindowState(stateFile, workAreas);
    // The security-relevant preferences are written here, at the call, where reviewers and the static audit read
    // them; test/electron/main.test.ts asserts they equal secureWebPreferences(), which web-preferences.test.ts pins.
    win = new BrowserWindow({
      ...windowFrameOptions(state),
      webPreferences: {
        preload: preloadPath,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        disableBlinkFeatures: 'Auxclick',
        safeDialogs: true,
        spellcheck: false,
        enableWebSQL: false,
        devTools,
      },
    });
    const w = win;
    if (state.maximized) w.maximize();
    w.once('ready-to-show', () => w.show());
    // Never leave the user with an invisible app if the first paint does not come (renderer missing, crash).
    setTimeout(() => {
      if (!w.isDestroyed() && !w.isVisible()) w.show();
    }, 5000).unref();
    let timer: NodeJS.Timeout | undefined;
    const persist = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (!w.isDestroyed()) saveWindowState(stateFile, captureWindowState(w));
      }, 500);
    };
    for (const ev of ['resize', 'move', 'maximize', 'unmaximize', 'enter-full-screen', 'leave-full-screen']) w.on(ev, persist);
    w.on('close', () => {
      clearTimeout(timer);
      try {
        saveWindowState(stateFile, captureWindowState(w));
      } catch (err) {
        log(`could not save the window state: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    w.on('closed', () => {
      win = null;
    });
    void w.loadURL(APP_ENTRY_URL);
  };

  void app.whenReady().then(() => {
    const ses = session.defaultSession;
    hardenSession(ses, log);
    studio = createElectronStudio({ emit: (e, p) => void forward(e, p), version: app.getVersion(), userData: app.getPath('userData') });
    trainer = new TrainerHost({ emit: (e, p) => void forward(e, p), workerFile: join(root, 'dist', 'main', 'electron', 'worker-trainer.js') });
    ses.protocol.handle(APP_SCHEME, createAppProtocolHandler({ rendererDir, media: studio.media }));
    registerIpc(ipcMain, studio.api, { log });
    const { project } = parseAppArgs(process.argv.slice(1));
    if (project) {
      // Opened before the window loads, so the renderer's first app.info already reports it.
      studio.service.openAtStart(project).catch((err: unknown) => log(`could not open ${project}: ${err instanceof Error ? err.message : String(err)}`));
    }

    const template = buildMenuTemplate(
      {
        command: sendCommand,
        openProjectFolder: () => {
          if (!win) return;
          void dialog.showOpenDialog(win, { title: 'Open Project', properties: ['openDirectory'] }).then((r) => {
            if (!r.canceled && r.filePaths[0]) sendCommand('project.open', r.filePaths[0]);
          });
        },
      },
      { platform: process.platform, devTools },
    );
    Menu.setApplicationMenu(Menu.buildFromTemplate(template as MenuItemConstructorOptions[]));

    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });
}
