// The window only ever shows app://studio. Navigation elsewhere, new windows, <webview>, permission prompts
// and requests to any other scheme are refused. Nothing is handed to the system browser (shell.openExternal):
// the studio shows no external links, so an allow-list of hosts would only be attack surface (a URL the page
// controls reaching the OS's URL handlers).
import type { ElectronEvent, HandlerDetails, OnBeforeRequestDetails, OnHeadersReceivedDetails, PermissionCheckHandler, PermissionRequestHandler, Session, WebContents, WindowOpenHandlerResponse } from './electron-types';
import { APP_ORIGIN, isAppUrl } from './origin';

/** will-navigate / will-redirect: in-app reloads stay, everything else is stopped. */
export function shouldAllowNavigation(url: string, appOrigin: string = APP_ORIGIN): boolean {
  return isAppUrl(url, appOrigin);
}

/** setWindowOpenHandler: never a new window, and nothing is handed to the system browser either. */
export function windowOpenHandler(log: (msg: string) => void = () => undefined): (details: HandlerDetails) => WindowOpenHandlerResponse {
  return (details) => {
    log(`blocked window.open of ${details.url}`);
    return { action: 'deny' };
  };
}

/** Every permission (camera, notifications, clipboard-read, midi, …) is refused: the studio needs none. */
export const denyPermissionRequest: PermissionRequestHandler = (_wc, _permission, callback) => callback(false);
export const denyPermissionCheck: PermissionCheckHandler = () => false;

/** Schemes the renderer may request: our own, plus in-memory data/blob and the devtools UI itself. */
const LOCAL_SCHEMES = new Set(['app:', 'data:', 'blob:', 'devtools:', 'chrome-extension:']);

/** webRequest.onBeforeRequest: no remote content (http, https, ws, file, ftp…) is ever fetched. */
export function isAllowedRequestUrl(url: string): boolean {
  try {
    return LOCAL_SCHEMES.has(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** Applies the navigation rules to one WebContents (called from app 'web-contents-created' for every one). */
export function hardenWebContents(contents: WebContents, opts: { appOrigin?: string; log?: (msg: string) => void } = {}): void {
  const appOrigin = opts.appOrigin ?? APP_ORIGIN;
  const log = opts.log ?? (() => undefined);
  const guard = (kind: string) => (event: ElectronEvent, url: string) => {
    if (shouldAllowNavigation(url, appOrigin)) return;
    event.preventDefault();
    log(`blocked ${kind} to ${url}`);
  };
  contents.on('will-navigate', guard('navigation'));
  contents.on('will-redirect', guard('redirect'));
  contents.on('will-attach-webview', (event: ElectronEvent) => {
    event.preventDefault();
    log('blocked <webview> attach');
  });
  contents.setWindowOpenHandler(windowOpenHandler(log));
}

/** Session-wide rules: deny permissions, block non-local requests. */
export function hardenSession(session: Session, log: (msg: string) => void = () => undefined): void {
  session.setPermissionRequestHandler(denyPermissionRequest);
  session.setPermissionCheckHandler(denyPermissionCheck);
  session.setDevicePermissionHandler?.(() => false);
  session.webRequest.onBeforeRequest((details: OnBeforeRequestDetails, callback) => {
    const ok = isAllowedRequestUrl(details.url);
    if (!ok) log(`blocked request to ${details.url}`);
    callback({ cancel: !ok });
  });
  // The same policy the app:// handler sends (csp.ts), also set on every response the session sees. Written as a
  // literal so a static audit (electronegativity) reads it at the call; test/electron/csp.test.ts pins it to
  // contentSecurityPolicy(), so the two cannot drift apart.
  session.webRequest.onHeadersReceived((details: OnHeadersReceivedDetails, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [
          "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: app:; media-src 'self' blob: app:; font-src 'self' data:; connect-src 'self' app:; object-src 'none'; frame-src 'none'; child-src 'self' blob:; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ],
      },
    });
  });
}
