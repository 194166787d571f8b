// Server mode: POST /api/<method> for calls, /events WebSocket for events. Auth rides on the session cookie
// the server set when the page was first opened with ?token=…
import { BackboneInfo, methods, type EventName, type EventPayload, type MethodName, type StudioApi } from '@contract/api';
import { imageMediaUrl, thumbMediaUrl } from '@contract/media-url';
import { ApiCallError, type Transport } from './types';

type Listener = (payload: unknown) => void;

export function createHttpTransport(base = ''): Transport {
  const listeners = new Map<string, Set<Listener>>();
  let socket: WebSocket | null = null;
  let retry = 500;

  const connect = () => {
    const url = new URL(base + 'events', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url);
    socket.onopen = () => (retry = 500);
    socket.onmessage = (ev) => {
      try {
        const { event, payload } = JSON.parse(String(ev.data)) as { event: string; payload: unknown };
        listeners.get(event)?.forEach((l) => l(payload));
      } catch {
        /* a malformed message is ignored rather than breaking the UI */
      }
    };
    socket.onclose = () => {
      socket = null;
      // Reconnect with backoff: the server may restart while the page stays open.
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };

  async function call(name: string, input: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${base}api/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(input ?? {}),
      });
    } catch {
      throw new ApiCallError('the studio server cannot be reached: is `hst-studio serve` still running?', 0);
    }
    const body = (await res.json().catch(() => null)) as { error?: { message: string; field?: string } } | null;
    if (!res.ok) throw new ApiCallError(body?.error?.message ?? `${name} failed (HTTP ${res.status})`, res.status, body?.error?.field);
    return body;
  }

  const api = Object.fromEntries(Object.keys(methods).map((name) => [name, (input: unknown) => call(name, input)])) as StudioApi;

  return {
    kind: 'http',
    api,
    on<K extends EventName>(event: K, cb: (payload: EventPayload<K>) => void) {
      if (!socket) connect();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(cb as Listener);
      return () => set!.delete(cb as Listener);
    },
    imageUrl: (img, max) => imageMediaUrl(img, max, base),
    thumbUrl: (img, size = 256) => thumbMediaUrl(img, size, base),
    async uploadBackbone(file) {
      const res = await fetch(`${base}upload/backbone?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: file, credentials: 'same-origin' });
      const body = (await res.json().catch(() => null)) as { error?: { message: string } } | null;
      if (!res.ok) throw new ApiCallError(body?.error?.message ?? `import of ${file.name} failed (HTTP ${res.status})`, res.status);
      return BackboneInfo.parse(body);
    },
    async upload(files, onProgress) {
      const batch = Math.random().toString(36).slice(2, 12);
      let done = 0;
      for (const f of files) {
        const res = await fetch(`${base}upload?batch=${batch}&name=${encodeURIComponent(f.name)}`, { method: 'POST', body: f, credentials: 'same-origin' });
        if (!res.ok) {
          const body = (await res.json().catch(() => null)) as { error?: { message: string } } | null;
          throw new ApiCallError(`upload of ${f.name} failed: ${body?.error?.message ?? res.status}`, res.status);
        }
        onProgress?.(++done, files.length);
      }
      const res = await fetch(`${base}upload/commit?batch=${batch}`, { method: 'POST', credentials: 'same-origin' });
      const body = (await res.json()) as { jobId?: string; error?: { message: string } };
      if (!res.ok || !body.jobId) throw new ApiCallError(body.error?.message ?? 'import of the uploaded files failed', res.status);
      return { jobId: body.jobId };
    },
  };
}

export type { MethodName };
