// Headless server mode: the built renderer, the JSON API (POST /api/<method>), media by image id and a
// WebSocket (/events) for job progress, all behind a per-run session token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, toApiError } from '../core/app/errors';
import type { StudioService } from '../core/app/studio-service';
import { COOKIE, isLoopback, newToken, presentedToken, tokenMatches } from './auth';
import { parseJson, readBody } from './body';
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
}

export interface RunningServer {
  url: string;
  /** URL with the token, to print or open. */
  loginUrl: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const JSON_LIMIT = 64 * 1024 * 1024;
const UPLOAD_LIMIT = 1024 * 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = toApiError(err);
  if (e.status === 500 && process.env.HST_DEBUG) console.error(err);
  sendJson(res, e.status, { error: { message: e.message, ...(e.field ? { field: e.field } : {}) } });
}

/** Browsers send Origin on cross-site POSTs and WebSocket handshakes: it must name this very server. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowRemote) {
    throw new Error(`refusing to listen on ${host}: it is reachable from other machines; pass --allow-remote to do so deliberately`);
  }
  const token = opts.token ?? newToken();
  const { service, staticDir } = opts;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setSecurityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { token: given, fromQuery } = presentedToken(req, url);
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
      res.setHeader('Location', url.pathname + (url.search || ''));
      return void res.end();
    }
    const path = url.pathname;

    if (path.startsWith('/api/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: { message: 'API methods are called with POST' } });
      if (!sameOrigin(req)) return sendJson(res, 403, { error: { message: 'cross-origin API requests are refused' } });
      const method = decodeURIComponent(path.slice('/api/'.length));
      const body = parseJson(await readBody(req, JSON_LIMIT));
      return sendJson(res, 200, await service.call(method, body));
    }

    if (await serveMedia(service, req.method, path, url.searchParams, res)) return;
    if (await serveDownload(service, req.method, path, res)) return;

    if (path === '/upload' || path === '/upload/commit') {
      if (req.method !== 'POST') return sendJson(res, 405, { error: { message: 'uploads use POST' } });
      if (!sameOrigin(req)) return sendJson(res, 403, { error: { message: 'cross-origin uploads are refused' } });
      const batch = url.searchParams.get('batch') ?? '';
      if (path === '/upload/commit') return sendJson(res, 200, { jobId: service.importStaged(batch) });
      const name = url.searchParams.get('name') ?? '';
      await service.stageUpload(batch, name, await readBody(req, UPLOAD_LIMIT));
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
      else sendError(res, err);
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
    const { token: given } = presentedToken(req, url);
    if (url.pathname !== '/events' || !tokenMatches(token, given) || !sameOrigin(req)) {
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
