import { describe, expect, it, vi } from 'vitest';
import type { Session, WebContents } from '../../src-main/electron/electron-types';
import {
  denyPermissionCheck,
  denyPermissionRequest,
  hardenSession,
  hardenWebContents,
  isAllowedExternalUrl,
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

  it('will-navigate and will-redirect are prevented for foreign URLs; allow-listed ones open in the browser', () => {
    const wc = new FakeWebContents();
    const shell = { openExternal: vi.fn(async () => undefined) };
    hardenWebContents(wc as unknown as WebContents, shell);
    for (const ev of ['will-navigate', 'will-redirect']) {
      const blocked = new FakeEvent();
      wc.emit(ev, blocked, 'https://github.com/some/repo');
      expect(blocked.defaultPrevented).toBe(true);
      const foreign = new FakeEvent();
      wc.emit(ev, foreign, 'https://evil.example/');
      expect(foreign.defaultPrevented).toBe(true);
      const own = new FakeEvent();
      wc.emit(ev, own, 'app://studio/index.html');
      expect(own.defaultPrevented).toBe(false);
    }
    expect(shell.openExternal.mock.calls).toEqual([['https://github.com/some/repo'], ['https://github.com/some/repo']]);
  });

  it('window.open is always denied; only allow-listed https goes to the system browser', () => {
    const shell = { openExternal: vi.fn(async () => undefined) };
    const h = windowOpenHandler(shell);
    for (const url of ['https://github.com/x', 'https://evil.example/', 'app://studio/index.html', 'http://github.com/x', 'file:///etc/passwd']) {
      expect(h({ url })).toEqual({ action: 'deny' });
    }
    expect(shell.openExternal.mock.calls).toEqual([['https://github.com/x']]);
  });

  it('hardenWebContents installs the window-open handler and prevents <webview>', () => {
    const wc = new FakeWebContents();
    hardenWebContents(wc as unknown as WebContents, { openExternal: async () => undefined });
    expect(wc.openHandler?.({ url: 'https://evil.example' })).toEqual({ action: 'deny' });
    const ev = new FakeEvent();
    wc.emit('will-attach-webview', ev, {}, { src: 'https://evil.example' });
    expect(ev.defaultPrevented).toBe(true);
  });
});

describe('external URL allow-list', () => {
  it('accepts https to listed hosts only', () => {
    expect(isAllowedExternalUrl('https://github.com/owner/repo')).toBe(true);
    expect(isAllowedExternalUrl('https://GitHub.com/x')).toBe(true);
  });

  it.each([
    'http://github.com/',
    'https://github.com.evil.example/',
    'https://evil.example/github.com',
    'https://sub.github.com/',
    'https://user:pw@github.com/',
    'https://github.com:8443/',
    'file:///etc/passwd',
    'smb://share/x',
    'javascript:alert(1)',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isAllowedExternalUrl(url)).toBe(false);
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
      webRequest: { onBeforeRequest: (fn: typeof filter) => (filter = fn) },
      setPermissionRequestHandler: (h: unknown) => (installed.request = h),
      setPermissionCheckHandler: (h: unknown) => (installed.check = h),
      setDevicePermissionHandler: (h: unknown) => (installed.device = h),
    } as unknown as Session;
    hardenSession(session);
    expect(installed.request).toBe(denyPermissionRequest);
    expect(installed.check).toBe(denyPermissionCheck);
    expect((installed.device as () => boolean)()).toBe(false);
    const decide = (url: string) => {
      let r: { cancel?: boolean } = {};
      filter?.({ url }, (x) => (r = x));
      return r;
    };
    expect(decide('https://evil.example/x.js')).toEqual({ cancel: true });
    expect(decide('app://studio/index.html')).toEqual({ cancel: false });
  });
});
