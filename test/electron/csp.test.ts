import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, CSP_DIRECTIVES, securityHeaders } from '../../src-main/electron/csp';

function parse(csp: string): Map<string, string[]> {
  return new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...src]) => [name, src]));
}

describe('content security policy', () => {
  const csp = contentSecurityPolicy();
  const d = parse(csp);

  it('is the exact policy string', () => {
    expect(csp).toBe(
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob: app:; media-src 'self' blob: app:; font-src 'self' data:; connect-src 'self' app:; object-src 'none'; " +
        "frame-src 'none'; child-src 'self' blob:; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('allows wasm compilation but never eval or inline script', () => {
    expect(d.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toContain("'unsafe-eval'");
    expect(d.get('script-src')).not.toContain("'unsafe-inline'");
  });

  it('lets tfjs start workers from blob: and the UI load app: media', () => {
    expect(d.get('worker-src')).toEqual(["'self'", 'blob:']);
    expect(d.get('img-src')).toEqual(["'self'", 'data:', 'blob:', 'app:']);
    expect(d.get('connect-src')).toEqual(["'self'", 'app:']);
  });

  it('closes plugins, base-tag hijacks, framing and form posts', () => {
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('form-action')).toEqual(["'none'"]);
  });

  it('names no remote host or scheme anywhere', () => {
    for (const sources of Object.values(CSP_DIRECTIVES)) for (const s of sources) expect(s).toMatch(/^('[a-z-]+'|data:|blob:|app:)$/);
  });
});

describe('securityHeaders', () => {
  it('sends CSP, cross-origin isolation and hardening headers', () => {
    expect(securityHeaders()).toEqual({
      'Content-Security-Policy': contentSecurityPolicy(),
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=(), payment=()',
    });
  });
});
