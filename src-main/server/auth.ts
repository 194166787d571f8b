// Session-token auth: one random token per server run, accepted from a header, a cookie (set when the page
// is first loaded with ?token=…) or the query; compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'hst_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Hashing first gives equal-length buffers, so timingSafeEqual never throws and length leaks nothing. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  const raw = req.headers.cookie;
  if (!raw) return null;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return null; // a malformed cookie is no token (401), not a crash (500)
      }
    }
  }
  return null;
}

/**
 * The token the request presents: Authorization: Bearer, X-HST-Token, ?token=, then the cookie. The URL's
 * token goes before the cookie: cookies ignore ports, so one left by an earlier run of the server (or by
 * another one on this machine) must not lock out the URL this run printed.
 */
export function presentedToken(req: IncomingMessage, url: URL): { token: string | null; fromQuery: boolean; fromCookie: boolean } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), fromQuery: false, fromCookie: false };
  const header = req.headers['x-hst-token'];
  if (typeof header === 'string') return { token: header, fromQuery: false, fromCookie: false };
  const q = url.searchParams.get('token');
  if (q !== null) return { token: q, fromQuery: true, fromCookie: false };
  const c = cookieValue(req, COOKIE);
  return { token: c, fromQuery: false, fromCookie: c !== null };
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
