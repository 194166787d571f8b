// Every BrowserWindow the studio opens gets exactly these preferences. Kept in one pure function so a test
// pins each value: a regression here (nodeIntegration on, sandbox off) would silently hand the renderer Node.
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

export function mainWindowOptions(state: WindowState, preloadPath: string, opts: { devTools: boolean; icon?: string }): BrowserWindowConstructorOptions {
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
    webPreferences: secureWebPreferences(preloadPath, opts),
  };
}
