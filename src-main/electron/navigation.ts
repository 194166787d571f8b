// The window only ever shows app://studio. Navigation elsewhere, new windows, <webview>, permission prompts
// and requests to any other scheme are refused; the one way out is shell.openExternal for https links to
// hosts on an explicit allow-list (docs, the project page), opened in the user's browser, never in the app.
import type { ElectronEvent, HandlerDetails, OnBeforeRequestDetails, PermissionCheckHandler, PermissionRequestHandler, Session, WebContents, WindowOpenHandlerResponse } from './electron-types';
import { APP_ORIGIN, isAppUrl } from './origin';

/** Hosts whose https pages may be opened in the system browser (exact host match, no subdomains). */
export const EXTERNAL_HOST_ALLOWLIST: readonly string[] = Object.freeze(['github.com', 'www.electronjs.org']);

export function isAllowedExternalUrl(url: string, allowlist: readonly string[] = EXTERNAL_HOST_ALLOWLIST): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === 'https:' && u.port === '' && !u.username && !u.password && allowlist.includes(u.hostname.toLowerCase());
}

/** will-navigate / will-redirect: in-app reloads stay, everything else is stopped. */
export function shouldAllowNavigation(url: string, appOrigin: string = APP_ORIGIN): boolean {
  return isAppUrl(url, appOrigin);
}

export interface Opener {
  openExternal(url: string): Promise<void>;
}

/** setWindowOpenHandler: never a new Electron window; allow-listed https links go to the system browser. */
export function windowOpenHandler(shell: Opener, allowlist: readonly string[] = EXTERNAL_HOST_ALLOWLIST): (details: HandlerDetails) => WindowOpenHandlerResponse {
  return (details) => {
    if (isAllowedExternalUrl(details.url, allowlist)) void shell.openExternal(details.url).catch(() => undefined);
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
export function hardenWebContents(contents: WebContents, shell: Opener, opts: { appOrigin?: string; allowlist?: readonly string[]; log?: (msg: string) => void } = {}): void {
  const appOrigin = opts.appOrigin ?? APP_ORIGIN;
  const log = opts.log ?? (() => undefined);
  const guard = (kind: string) => (event: ElectronEvent, url: string) => {
    if (shouldAllowNavigation(url, appOrigin)) return;
    event.preventDefault();
    log(`blocked ${kind} to ${url}`);
    if (isAllowedExternalUrl(url, opts.allowlist)) void shell.openExternal(url).catch(() => undefined);
  };
  contents.on('will-navigate', guard('navigation'));
  contents.on('will-redirect', guard('redirect'));
  contents.on('will-attach-webview', (event: ElectronEvent) => {
    event.preventDefault();
    log('blocked <webview> attach');
  });
  contents.setWindowOpenHandler(windowOpenHandler(shell, opts.allowlist));
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
}
