// IPC from the contract's method table: one ipcMain.handle per method name, nothing else. Each call is
// checked before the core sees it — known channel, sender frame is the top frame of our own app:// page,
// exactly one argument that passes the method's input schema — and its result is checked against the
// output schema. Results travel as an envelope so the renderer gets the core's clean message (and the
// offending field) instead of Electron's "Error invoking remote method …" wrapper.
import { events, methods, type EventName, type EventPayload, type MethodName, type StudioApi } from '../contract/api';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from './electron-types';
import { APP_ORIGIN, isAppUrl } from './origin';

export type IpcResult = { ok: true; value: unknown } | { ok: false; error: { message: string; status: number; field?: string } };

export class IpcRejection extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 500,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'IpcRejection';
  }
}

export interface IpcOptions {
  appOrigin?: string;
  log?: (msg: string) => void;
}

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

/** "changeset.created[0].geometry.w" from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

/** Refuses calls that do not come from the top frame of our own page. */
export function checkSender(event: IpcMainInvokeEvent, appOrigin: string = APP_ORIGIN): void {
  const frame = event.senderFrame;
  if (!frame) throw new IpcRejection(403, 'the calling frame is gone (navigated or destroyed)');
  const top = event.sender.mainFrame;
  const isTop = frame.parent === null && frame.routingId === top.routingId && frame.processId === top.processId;
  if (!isTop) throw new IpcRejection(403, 'calls from sub-frames are refused');
  if (!isAppUrl(frame.url, appOrigin)) throw new IpcRejection(403, `calls from ${frame.url || 'an unknown page'} are refused: only ${appOrigin} may use the API`);
}

/** Validated call of one method: the whole decision, testable without Electron. */
export async function dispatchIpc(service: StudioApi, channel: string, event: IpcMainInvokeEvent, args: unknown[], opts: IpcOptions = {}): Promise<unknown> {
  if (!isMethodName(channel)) throw new IpcRejection(404, `unknown method '${channel}'`);
  checkSender(event, opts.appOrigin);
  if (args.length > 1) throw new IpcRejection(400, `${channel} takes one argument, got ${args.length}`);
  const def = methods[channel];
  const parsed = def.input.safeParse(args[0] ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = fieldPath(issue?.path ?? []);
    throw new IpcRejection(400, `invalid input for ${channel}: ${field}: ${issue?.message ?? 'invalid value'}`, field);
  }
  const fn = service[channel] as (input: unknown) => Promise<unknown>;
  const result = await fn(parsed.data);
  const out = def.output.safeParse(result);
  if (!out.success) {
    const issue = out.error.issues[0];
    const field = fieldPath(issue?.path ?? []);
    throw new IpcRejection(500, `internal error: ${channel} produced an invalid ${field}: ${issue?.message ?? 'invalid value'}`, field);
  }
  return out.data;
}

/** The core's dispatch has already turned domain errors into 400/404/409 with their field; the rest is a 500. */
export function toIpcError(err: unknown): Extract<IpcResult, { ok: false }> {
  const e = err as { status?: unknown; field?: unknown; message?: unknown };
  const status = typeof e?.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, error: { message: message || 'unexpected error', status, ...(typeof e?.field === 'string' ? { field: e.field } : {}) } };
}

/**
 * Registers one handler per contract method on `ipcMain` (and nothing else). Returns a function that
 * removes them again (window closed in tests, app quitting).
 */
export function registerIpc(ipcMain: IpcMain, service: StudioApi, opts: IpcOptions = {}): () => void {
  const names = Object.keys(methods) as MethodName[];
  for (const name of names) {
    ipcMain.handle(name, async (event, ...args): Promise<IpcResult> => {
      try {
        return { ok: true, value: await dispatchIpc(service, name, event, args, opts) };
      } catch (err) {
        if (err instanceof IpcRejection && err.status === 403) opts.log?.(`refused ${name}: ${err.message}`);
        const out = toIpcError(err);
        // a 500 is a bug of ours: log it with its stack so it can be fixed
        if (out.error.status === 500) (opts.log ?? console.error)(`internal error in ${name}: ${(err as Error)?.stack ?? String(err)}`);
        return out;
      }
    });
  }
  return () => {
    for (const name of names) ipcMain.removeHandler(name);
  };
}

/** A transport-independent `call(name, input)` (StudioService.call) viewed as the named StudioApi. */
export function studioApiFromCall(call: (name: MethodName, input: unknown) => Promise<unknown>): StudioApi {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(methods) as MethodName[]) api[name] = (input) => call(name, input);
  return api as unknown as StudioApi;
}

export type Emit = <K extends EventName>(event: K, payload: EventPayload<K>) => void;

/**
 * Core events → webContents.send, only for contract event names with valid payloads, and only to pages
 * that are still showing our app (a destroyed or foreign page gets nothing).
 */
export function createEventForwarder(targets: () => WebContents[], opts: IpcOptions = {}): (event: string, payload: unknown) => boolean {
  return (event, payload) => {
    if (!Object.prototype.hasOwnProperty.call(events, event)) {
      opts.log?.(`dropped unknown event '${event}'`);
      return false;
    }
    const parsed = events[event as EventName].safeParse(payload);
    if (!parsed.success) {
      opts.log?.(`dropped event '${event}' with an invalid payload: ${fieldPath(parsed.error.issues[0]?.path ?? [])}`);
      return false;
    }
    let sent = false;
    for (const wc of targets()) {
      if (wc.isDestroyed() || !isAppUrl(wc.getURL(), opts.appOrigin)) continue;
      wc.send(event, parsed.data);
      sent = true;
    }
    return sent;
  };
}
