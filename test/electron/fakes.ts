// Minimal stand-ins for Electron objects, shaped like the slices in src-main/electron/electron-types.ts.
import type { ElectronEvent, IpcMain, IpcMainInvokeEvent, WebContents, WebFrameMain } from '../../src-main/electron/electron-types';

export function frame(url: string, opts: { parent?: WebFrameMain | null; routingId?: number; processId?: number } = {}): WebFrameMain {
  return { url, parent: opts.parent ?? null, routingId: opts.routingId ?? 1, processId: opts.processId ?? 7 };
}

/** An invoke event from the top frame showing `url` (or from `senderFrame` when given). */
export function invokeEvent(url: string, senderFrame?: WebFrameMain | null): IpcMainInvokeEvent {
  const top = frame(url);
  return { sender: { mainFrame: top } as unknown as WebContents, senderFrame: senderFrame === undefined ? top : senderFrame };
}

export class FakeIpcMain implements IpcMain {
  handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What Electron does for ipcRenderer.invoke(channel, ...args). */
  async invoke(channel: string, event: IpcMainInvokeEvent, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`No handler registered for '${channel}'`);
    return h(event, ...args);
  }
}

export class FakeEvent implements ElectronEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

/** A WebContents that records listeners, window-open handler and sent messages. */
export class FakeWebContents {
  id = 1;
  mainFrame = frame('app://studio/index.html');
  listeners = new Map<string, ((...args: any[]) => void)[]>();
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  sent: [string, unknown][] = [];
  destroyed = false;
  url = 'app://studio/index.html';
  getURL(): string {
    return this.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, args[0]]);
  }
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.openHandler = h;
  }
  on(event: string, fn: (...args: any[]) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}
