import { describe, expect, it, vi } from 'vitest';
import { contentSecurityPolicy } from '../../src-main/electron/csp';
import type { Session, WebContents } from '../../src-main/electron/electron-types';
import {
  denyPermissionCheck,
  denyPermissionRequest,
  hardenSession,
  hardenWebContents,
  isAllowedRequestUrl,
  shouldAllowNavigation,
  windowOpenHandler,
} from '../../src-main/electron/navigation';
import { FakeEvent, FakeWebContents } from './fakes';

describe('navigation', () => {
  it('allows only our own origin', () => {
    expect(shouldAllowNavigation('app://studio/index.html')).toBe(true);
    for (const url of ['https://example.com/', 'http://localhost:5173/', 'file:///etc/passwd', 'app://other/', 'javascript:alert(1)', 'data:text/html,hi', 'not a url']) {
      expect(shouldAllowNavigation(url)).toBe(false);
    }
  });

  it('will-navigate and will-redirect are prevented for every foreign URL, logged, and nothing is opened outside', () => {
    const wc = new FakeWebContents();
    const log = vi.fn();
    hardenWebContents(wc as unknown as WebContents, { log });
    for (const ev of ['will-navigate', 'will-redirect']) {
      for (const url of ['https://github.com/some/repo', 'https://evil.example/', 'file:///etc/passwd']) {
        const blocked = new FakeEvent();
        wc.emit(ev, blocked, url);
        expect(blocked.defaultPrevented).toBe(true);
      }
      const own = new FakeEvent();
      wc.emit(ev, own, 'app://studio/index.html');
      expect(own.defaultPrevented).toBe(false);
    }
    expect(log).toHaveBeenCalledWith('blocked navigation to https://evil.example/');
    expect(log).toHaveBeenCalledTimes(6);
  });

  it('window.open is always denied and logged', () => {
    const log = vi.fn();
    const h = windowOpenHandler(log);
    for (const url of ['https://github.com/x', 'https://evil.example/', 'app://studio/index.html', 'http://github.com/x', 'file:///etc/passwd']) {
      expect(h({ url })).toEqual({ action: 'deny' });
    }
    expect(log).toHaveBeenCalledTimes(5);
  });

  it('hardenWebContents installs the window-open handler and prevents <webview>', () => {
    const wc = new FakeWebContents();
    hardenWebContents(wc as unknown as WebContents);
    expect(wc.openHandler?.({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    const ev = new FakeEvent();
    wc.emit('will-attach-webview', ev, {}, { src: 'https://evil.example' });
    expect(ev.defaultPrevented).toBe(true);
  });
});

describe('permissions and remote content', () => {
  it('every permission request is denied', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      const cb = vi.fn();
      denyPermissionRequest({} as WebContents, p, cb, {});
      expect(cb).toHaveBeenCalledWith(false);
      expect(denyPermissionCheck(null, p, 'app://studio', {})).toBe(false);
    }
  });

  it('only local schemes may be requested', () => {
    for (const ok of ['app://studio/index.html', 'data:image/png;base64,AA', 'blob:app://studio/1234', 'devtools://devtools/x']) expect(isAllowedRequestUrl(ok)).toBe(true);
    for (const bad of ['https://cdn.example/lib.js', 'http://127.0.0.1:8080/', 'ws://localhost/', 'file:///etc/passwd', 'ftp://x/']) expect(isAllowedRequestUrl(bad)).toBe(false);
  });

  it('hardenSession installs deny-all handlers and the request filter', () => {
    const installed: Record<string, unknown> = {};
    let filter: ((d: { url: string }, cb: (r: { cancel?: boolean }) => void) => void) | null = null;
    const session = {
      protocol: {} as Session['protocol'],
      webRequest: { onBeforeRequest: (fn: typeof filter) => (filter = fn), onHeadersReceived: (fn: unknown) => (installed.headers = fn) },
      setPermissionRequestHandler: (h: unknown) => (installed.request = h),
      setPermissionCheckHandler: (h: unknown) => (installed.check = h),
      setDevicePermissionHandler: (h: unknown) => (installed.device = h),
    } as unknown as Session;
    hardenSession(session);
    expect(installed.request).toBe(denyPermissionRequest);
    expect(installed.check).toBe(denyPermissionCheck);
    expect((installed.device as () => boolean)()).toBe(false);
    // The session-wide CSP header is the policy csp.ts sends on app:// responses, exactly, and keeps other headers.
    let headers: Record<string, string[]> | undefined;
    (installed.headers as (d: unknown, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void)(
      { url: 'app://studio/index.html', responseHeaders: { 'X-Other': ['1'], 'Content-Security-Policy': ["default-src *"] } },
      (r) => (headers = r.responseHeaders),
    );
    expect(headers).toEqual({ 'X-Other': ['1'], 'Content-Security-Policy': [contentSecurityPolicy()] });
    const decide = (url: string) => {
      let r: { cancel?: boolean } = {};
      filter?.({ url }, (x) => (r = x));
      return r;
    };
    expect(decide('https://evil.example/x.js')).toEqual({ cancel: true });
    expect(decide('app://studio/index.html')).toEqual({ cancel: false });
  });
});
