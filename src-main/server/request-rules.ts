// The server-mode request rules a local web app needs beyond its token (docs/SECURITY.md, "Server mode"):
// the Host must be one of our addresses (DNS rebinding), cookie-authenticated writes must come from our own page
// (Origin with scheme, or Sec-Fetch-Site), API bodies must be application/json (no form posts or text/plain
// "simple requests" from other sites), and the login redirect stays on this origin.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ApiError } from '../core/app/errors';
import { isLoopback } from './auth';

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

const bracket = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h).toLowerCase();

/**
 * `host:port` values the server answers to. On loopback: the loopback names. On a wildcard address (remote mode):
 * any IP literal (checked per request) plus localhost, the machine's name and any `extra` names.
 */
export function allowedHosts(listenHost: string, port: number, extra: string[] = []): Set<string> {
  const out = new Set<string>();
  const add = (h: string) => out.add(`${bracket(h)}:${port}`);
  add(listenHost);
  if (isLoopback(listenHost) || WILDCARD.has(listenHost)) for (const h of ['localhost', '127.0.0.1', '::1']) add(h);
  if (!isLoopback(listenHost)) for (const h of extra) if (h) add(h);
  if (WILDCARD.has(listenHost)) out.add(`*:${port}`);
  return out;
}

/** Whether a request's Host header names this server (a missing Host is refused: HTTP/1.1 requires it). */
export function hostAllowed(host: string | undefined, allowed: Set<string>): boolean {
  if (!host || allowed.size === 0) return allowed.size === 0;
  const h = host.toLowerCase();
  if (allowed.has(h)) return true;
  const m = /^(\[[0-9a-f:.]+\]|[0-9.]+):(\d+)$/.exec(h);
  // remote mode: an IP literal cannot be rebound by DNS
  return !!m && allowed.has(`*:${m[2]}`) && isIP(m[1].replace(/^\[|\]$/g, '')) !== 0;
}

/**
 * Writes authenticated by the cookie must come from our own page: an Origin equal to http://<Host> (scheme
 * included), or, from browsers that omit Origin, Sec-Fetch-Site: same-origin. A request that carries the token
 * itself (header, query) is not riding on ambient credentials; a cross-site Origin is still refused for it.
 */
export function checkOrigin(req: IncomingMessage, cookieAuth: boolean): void {
  const origin = req.headers.origin;
  const own = `http://${String(req.headers.host ?? '').toLowerCase()}`;
  if (origin !== undefined) {
    if (origin.toLowerCase() !== own) throw new ApiError(403, `cross-origin request refused: Origin ${origin.slice(0, 100)} is not ${own}`);
    return;
  }
  if (!cookieAuth) return;
  const site = req.headers['sec-fetch-site'];
  if (site === 'same-origin') return;
  throw new ApiError(403, `a write authenticated by the session cookie must come from the studio's own page (Origin ${own} or Sec-Fetch-Site: same-origin)`);
}

/** API bodies are JSON: text/plain and form posts are what other sites can send without a preflight. */
export function checkContentType(req: IncomingMessage): void {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(415, `API requests must be sent with Content-Type: application/json${type ? ` (got ${type.slice(0, 100)})` : ''}`, 'content-type');
  }
}

/**
 * Where to send the browser after trading ?token= for the cookie: the same path on this origin, normalised so
 * that `/.//evil.example/` cannot become the protocol-relative `//evil.example/`.
 */
export function safeRedirectPath(url: URL): string {
  const segments = url.pathname.split(/[/\\]+/).filter((s) => s !== '' && s !== '.');
  const out: string[] = [];
  for (const s of segments) {
    if (s === '..') out.pop();
    else out.push(s);
  }
  const trailing = url.pathname.endsWith('/') && out.length ? '/' : '';
  return `/${out.join('/')}${trailing}${url.search}`;
}
