// Headless server mode: the built renderer, the JSON API (POST /api/<method>), media by image id and a
// WebSocket (/events) for job progress, all behind a per-run session token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, toApiError } from '../core/app/errors';
import type { StudioService } from '../core/app/studio-service';
import { COOKIE, isLoopback, newToken, presentedToken, tokenMatches } from './auth';
import { parseJson, readBody } from './body';
import { allowedHosts, checkContentType, checkOrigin, hostAllowed, safeRedirectPath } from './request-rules';
import { setSecurityHeaders } from './security-headers';
import { loginPage, wantsHtml } from './login-page';
import { serveDownload, serveMedia } from './media-routes';
import { serveStatic } from './static-files';

export interface ServerOptions {
  service: StudioService;
  /** Folder with the built renderer (index.html + assets). */
  staticDir: string;
  host?: string;
  port?: number;
  allowRemote?: boolean;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
  /** extra Host names the server answers to (a reverse proxy's name); IP literals and localhost always work */
  hostNames?: string[];
}

export interface RunningServer {
  url: string;
  /** URL with the token, to print or open. */
  loginUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** JSON request bodies: far above any real call (undoing a class delete of 10,000 masks is ~20 MB). */
export const JSON_LIMIT = 64 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown, what: string): void {
  const e = toApiError(err);
  // a 500 is a bug of ours: log it with its stack so it can be fixed (4xx are the caller's and stay quiet)
  if (e.status === 500) console.error(`hst-studio: internal error in ${what}:`, err);
  sendJson(res, e.status, { error: { message: e.message, ...(e.field ? { field: e.field } : {}) } });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new Error(`refusing to listen on ${host}: it is reachable from other machines; pass --allow-remote to do so deliberately`);
  }
  const token = opts.token ?? newToken();
  const { service, staticDir } = opts;
  let hosts: Set<string> = new Set();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setSecurityHeaders(res);
    // DNS rebinding: a page of evil.example re-resolved to 127.0.0.1 reaches us with Host: evil.example
    if (!hostAllowed(req.headers.host, hosts)) {
      return sendJson(res, 403, { error: { message: `Host '${String(req.headers.host ?? '').slice(0, 100)}' is not an address of this server` } });
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { token: given, fromQuery, fromCookie } = presentedToken(req, url);
    if (!tokenMatches(token, given)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="hst-studio"');
      if (wantsHtml(req, url.pathname)) {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        return void res.end(loginPage());
      }
      return sendJson(res, 401, { error: { message: 'missing or wrong session token: open the URL printed by `hst-studio serve`' } });
    }
    if (fromQuery && req.method === 'GET' && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/media/')) {
      // Trade the token in the address bar for a cookie, so it does not linger in history or screenshots.
      res.setHeader('Set-Cookie', `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
      url.searchParams.delete('token');
      res.statusCode = 302;
      res.setHeader('Location', safeRedirectPath(url));
      return void res.end();
    }
    const path = url.pathname;
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    // cross-site writes: a cookie rides along with any site's request, so a write it authenticates must show it
    // comes from our own page (Origin, scheme included, or Sec-Fetch-Site); a token in a header is proof enough
    if (write) checkOrigin(req, fromCookie);

    if (path.startsWith('/api/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: { message: 'API methods are called with POST' } });
      let method: string;
      try {
        method = decodeURIComponent(path.slice('/api/'.length));
      } catch {
        throw new ApiError(400, `the method name in ${path.slice(0, 200)} is not valid %-encoding`, 'method');
      }
      checkContentType(req);
      const body = parseJson(await readBody(req, JSON_LIMIT));
      return sendJson(res, 200, await service.call(method, body));
    }

    if (await serveMedia(service, req.method, path, url.searchParams, res)) return;
    if (await serveDownload(service, req.method, path, res)) return;

    if (path === '/upload/backbone') {
      // a backbone file picked or dropped in the browser (server mode cannot hand the core a path)
      if (req.method !== 'POST') return sendJson(res, 405, { error: { message: 'uploads use POST' } });
      const declared = Number(req.headers['content-length'] ?? NaN);
      return sendJson(res, 200, await service.importBackboneUpload(url.searchParams.get('name') ?? '', req, Number.isFinite(declared) ? declared : undefined));
    }

    if (path === '/upload' || path === '/upload/commit') {
      if (req.method !== 'POST') return sendJson(res, 405, { error: { message: 'uploads use POST' } });
      const batch = url.searchParams.get('batch') ?? '';
      if (path === '/upload/commit') return sendJson(res, 200, { jobId: service.importStaged(batch) });
      const name = url.searchParams.get('name') ?? '';
      const declared = Number(req.headers['content-length'] ?? NaN);
      // streamed to disk as it arrives: memory stays flat whatever the size, and the limit stops it early
      await service.stageUpload(batch, name, req, Number.isFinite(declared) ? declared : undefined);
      return sendJson(res, 200, { ok: true });
    }

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (serveStatic(staticDir, path, res)) return;
      if (path === '/' || path === '/index.html') {
        return sendJson(res, 500, { error: { message: `the renderer is not built (no ${staticDir}/index.html): run npm run build` } });
      }
    }
    sendJson(res, 404, { error: { message: `nothing at ${path}` } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (res.headersSent) res.destroy();
      else {
        // a refused body is not read: close the connection instead of draining gigabytes
        if (!req.complete) res.setHeader('Connection', 'close');
        sendError(res, err, `${req.method} ${(req.url ?? '').slice(0, 200)}`);
      }
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  const unsubscribe = service.subscribe((event, payload) => {
    const msg = JSON.stringify({ event, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(msg);
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { token: given, fromCookie } = presentedToken(req, url);
    let ok = url.pathname === '/events' && hostAllowed(req.headers.host, hosts) && tokenMatches(token, given);
    if (ok) {
      try {
        checkOrigin(req, fromCookie);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port, [hostname(), ...(opts.hostNames ?? [])]);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    loginUrl: `${url}?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((done) => {
        unsubscribe();
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
