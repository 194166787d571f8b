// Every BrowserWindow the studio opens gets exactly these preferences. main.ts writes them literally at its
// `new BrowserWindow({...})` (for auditors); this pure function is the pinned reference: web-preferences.test.ts
// pins each value and main.test.ts checks the window got exactly these, so a regression (nodeIntegration on,
// sandbox off) cannot slip in at the call site.
import type { BrowserWindowConstructorOptions, WebPreferences } from './electron-types';
import type { WindowState } from './window-state';

export function secureWebPreferences(preloadPath: string, opts: { devTools: boolean }): WebPreferences {
  return Object.freeze({
    preload: preloadPath,
    // Isolation + sandbox: the page and the preload live in separate JS worlds, and the preload has no Node.
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    // webSecurity is deliberately not set: its default (true) applies and nothing here may turn it off.
    allowRunningInsecureContent: false,
    webviewTag: false,
    // A dropped file must never navigate the window to file://; drops are handled by the renderer instead.
    navigateOnDragDrop: false,
    // Middle-click (auxclick) on a link would try to open a window: switched off at the engine level.
    disableBlinkFeatures: 'Auxclick',
    safeDialogs: true,
    spellcheck: false,
    enableWebSQL: false,
    devTools: opts.devTools,
  });
}

/** Size, position and look of the main window (everything but webPreferences, which main.ts writes literally). */
export function windowFrameOptions(state: WindowState, opts: { icon?: string } = {}): Omit<BrowserWindowConstructorOptions, 'webPreferences'> {
  return {
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    minWidth: 800,
    minHeight: 560,
    // Shown on 'ready-to-show' so the user never sees an unstyled flash.
    show: false,
    title: 'HST Studio',
    backgroundColor: '#1e1f22',
    ...(opts.icon ? { icon: opts.icon } : {}),
  };
}
