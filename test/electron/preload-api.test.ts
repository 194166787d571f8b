import { describe, expect, it, vi } from 'vitest';
import { events, methods } from '../../src-main/contract/api';
import { buildBridge } from '../../src-main/electron/preload-api';

function fakeRenderer() {
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  return {
    invoke: vi.fn(async (channel: string, input: unknown): Promise<unknown> => ({ ok: true, value: { channel, input } })),
    on: vi.fn((ch: string, fn: (...a: unknown[]) => void) => {
      listeners.set(ch, (listeners.get(ch) ?? new Set()).add(fn));
      return undefined as never;
    }),
    removeListener: vi.fn((ch: string, fn: (...a: unknown[]) => void) => {
      listeners.get(ch)?.delete(fn);
      return undefined as never;
    }),
    fire(ch: string, payload: unknown) {
      for (const fn of listeners.get(ch) ?? []) fn({ sender: 'IPC-RENDERER-OBJECT' }, payload);
    },
    count: (ch: string) => listeners.get(ch)?.size ?? 0,
  };
}

describe('preload bridge', () => {
  it('exposes exactly one named function per contract method, nothing generic', () => {
    const bridge = buildBridge({ ipcRenderer: fakeRenderer(), webUtils: { getPathForFile: () => '' } });
    expect(Object.keys(bridge).sort()).toEqual(['api', 'getPathForFile', 'on', 'platform']);
    expect(Object.keys(bridge.api).sort()).toEqual(Object.keys(methods).sort());
    for (const k of ['invoke', 'send', 'ipcRenderer', 'sendSync']) {
      expect(k in bridge).toBe(false);
      expect(k in bridge.api).toBe(false);
    }
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.isFrozen(bridge.api)).toBe(true);
  });

  it('each function invokes its own fixed channel and unwraps the envelope', async () => {
    const r = fakeRenderer();
    const bridge = buildBridge({ ipcRenderer: r, webUtils: { getPathForFile: () => '' } });
    expect(await bridge.api['project.open']({ dir: '/p' })).toEqual({ channel: 'project.open', input: { dir: '/p' } });
    expect(await (bridge.api['app.info'] as (i?: unknown) => Promise<unknown>)()).toEqual({ channel: 'app.info', input: {} });
    expect(r.invoke.mock.calls.map((c) => c[0])).toEqual(['project.open', 'app.info']);
  });

  it('error envelopes become Errors with the core message, status and field', async () => {
    const r = fakeRenderer();
    r.invoke.mockResolvedValueOnce({ ok: false, error: { message: 'invalid input for project.open: dir: too short', status: 400, field: 'dir' } });
    const bridge = buildBridge({ ipcRenderer: r, webUtils: { getPathForFile: () => '' } });
    await expect(bridge.api['project.open']({ dir: '' })).rejects.toMatchObject({ message: 'invalid input for project.open: dir: too short', status: 400, field: 'dir' });
    r.invoke.mockResolvedValueOnce('garbage');
    await expect(bridge.api['project.info']({})).rejects.toThrow(/malformed reply/);
  });

  it('on() accepts only contract events, hides the IPC event object, and unsubscribes', () => {
    const r = fakeRenderer();
    const bridge = buildBridge({ ipcRenderer: r, webUtils: { getPathForFile: () => '' } });
    const name = Object.keys(events)[0] as keyof typeof events;
    const cb = vi.fn();
    const off = bridge.on(name, cb);
    r.fire(name, { jobId: 'j' });
    expect(cb.mock.calls).toEqual([[{ jobId: 'j' }]]);
    off();
    expect(r.count(name)).toBe(0);
    expect(() => bridge.on('ipc.anything' as never, cb)).toThrow(/unknown event 'ipc\.anything'/);
    expect(() => bridge.on(name, 'not a function' as never)).toThrow(/callback/);
  });

  it('getPathForFile delegates to webUtils', () => {
    const webUtils = { getPathForFile: vi.fn(() => '/home/u/cat.jpg') };
    const bridge = buildBridge({ ipcRenderer: fakeRenderer(), webUtils });
    const file = { name: 'cat.jpg' };
    expect(bridge.getPathForFile(file)).toBe('/home/u/cat.jpg');
    expect(webUtils.getPathForFile).toHaveBeenCalledWith(file);
  });
});
