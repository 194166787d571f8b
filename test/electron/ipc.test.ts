import { describe, expect, it, vi } from 'vitest';
import { methods, type StudioApi } from '../../src-main/contract/api';
import { checkSender, createEventForwarder, dispatchIpc, registerIpc, studioApiFromCall } from '../../src-main/electron/ipc';
import type { WebContents } from '../../src-main/electron/electron-types';
import { FakeIpcMain, FakeWebContents, frame, invokeEvent } from './fakes';

const APP = 'app://studio/index.html';
const project = { dir: '/p', name: 'p', revision: 3, imageCount: 0 };

/** A service whose every method records its input; project.open returns a valid ProjectInfo. */
function fakeService() {
  const calls: [string, unknown][] = [];
  const api = studioApiFromCall(async (name, input) => {
    calls.push([name, input]);
    if (name === 'project.open') return project;
    if (name === 'project.info') return { ...project, extra: 'stripped' };
    if (name === 'images.counts') return { all: 'many' };
    throw Object.assign(new Error(`${name} is not faked`), { status: 409 });
  });
  return { api, calls };
}

describe('registerIpc', () => {
  it('registers exactly one handler per contract method and removes them again', () => {
    const ipc = new FakeIpcMain();
    const dispose = registerIpc(ipc, fakeService().api);
    expect([...ipc.handlers.keys()].sort()).toEqual(Object.keys(methods).sort());
    dispose();
    expect(ipc.handlers.size).toBe(0);
  });

  it('calls the service with the validated input and returns an ok envelope', async () => {
    const ipc = new FakeIpcMain();
    const { api, calls } = fakeService();
    registerIpc(ipc, api);
    expect(await ipc.invoke('project.open', invokeEvent(APP), { dir: '/p' })).toEqual({ ok: true, value: project });
    expect(calls).toEqual([['project.open', { dir: '/p' }]]);
  });

  it('validates output: unknown keys are stripped, wrong types become a 500 naming the field', async () => {
    const ipc = new FakeIpcMain();
    registerIpc(ipc, fakeService().api);
    expect(await ipc.invoke('project.info', invokeEvent(APP), {})).toEqual({ ok: true, value: project });
    const bad = (await ipc.invoke('images.counts', invokeEvent(APP), {})) as { ok: false; error: { status: number; message: string } };
    expect(bad.ok).toBe(false);
    expect(bad.error.status).toBe(500);
    expect(bad.error.message).toMatch(/images\.counts produced an invalid all/);
  });

  it('passes the service error message and status through', async () => {
    const ipc = new FakeIpcMain();
    registerIpc(ipc, fakeService().api);
    expect(await ipc.invoke('project.close', invokeEvent(APP), {})).toEqual({ ok: false, error: { message: 'project.close is not faked', status: 409 } });
  });

  it('an unregistered channel has no handler at all', async () => {
    const ipc = new FakeIpcMain();
    registerIpc(ipc, fakeService().api);
    await expect(ipc.invoke('fs.readFile', invokeEvent(APP), { path: '/etc/passwd' })).rejects.toThrow(/No handler registered/);
  });

  it('logs refused senders', async () => {
    const ipc = new FakeIpcMain();
    const log = vi.fn();
    registerIpc(ipc, fakeService().api, { log });
    await ipc.invoke('project.open', invokeEvent('https://evil.example/'), { dir: '/p' });
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/refused project\.open: calls from https:\/\/evil\.example\//));
  });
});

describe('dispatchIpc rejections (the service is never called)', () => {
  const reject = async (channel: string, event: ReturnType<typeof invokeEvent>, args: unknown[]) => {
    const { api, calls } = fakeService();
    const err = await dispatchIpc(api, channel, event, args).then(
      () => null,
      (e: Error & { status: number; field?: string }) => e,
    );
    expect(calls).toEqual([]);
    expect(err).not.toBeNull();
    return err as Error & { status: number; field?: string };
  };

  it('unknown channel → 404', async () => {
    const e = await reject('shell.exec', invokeEvent(APP), [{}]);
    expect(e.status).toBe(404);
    expect(e.message).toMatch(/unknown method 'shell\.exec'/);
  });

  it('prototype keys are not methods', async () => {
    for (const ch of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) expect((await reject(ch, invokeEvent(APP), [{}])).status).toBe(404);
  });

  it.each([
    ['a remote page', 'https://evil.example/index.html'],
    ['a file:// page', 'file:///home/user/index.html'],
    ['another app:// host', 'app://other/index.html'],
    ['our host with a port', 'app://studio:8080/index.html'],
    ['our host with credentials', 'app://user:pw@studio/index.html'],
    ['an empty URL', ''],
  ])('foreign sender (%s) → 403', async (_n, url) => {
    expect((await reject('project.open', invokeEvent(url), [{ dir: '/p' }])).status).toBe(403);
  });

  it('sub-frame sender → 403 even when it shows our own origin', async () => {
    const top = frame(APP);
    const sub = frame(APP, { parent: top, routingId: 2 });
    const e = await reject('project.open', invokeEvent(APP, sub), [{ dir: '/p' }]);
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/sub-frames/);
  });

  it('a frame that is parentless but not the top frame (another routing id) → 403', async () => {
    expect((await reject('project.open', invokeEvent(APP, frame(APP, { routingId: 9 })), [{ dir: '/p' }])).status).toBe(403);
  });

  it('destroyed sender frame → 403', async () => {
    expect((await reject('project.open', invokeEvent(APP, null), [{ dir: '/p' }])).status).toBe(403);
  });

  it('bad payload → 400 naming the field', async () => {
    const e = await reject('project.open', invokeEvent(APP), [{ dir: '' }]);
    expect(e.status).toBe(400);
    expect(e.field).toBe('dir');
    expect(e.message).toMatch(/^invalid input for project\.open: dir: /);
    const nested = await reject('images.setSplit', invokeEvent(APP), [{ ids: [1, -2], split: 'train' }]);
    expect(nested.field).toBe('ids[1]');
    expect((await reject('project.open', invokeEvent(APP), [{ dir: 42 }])).field).toBe('dir');
    expect((await reject('project.open', invokeEvent(APP), ['not an object'])).field).toBe('(root)');
  });

  it('more than one argument → 400', async () => {
    expect((await reject('project.open', invokeEvent(APP), [{ dir: '/p' }, 'extra'])).status).toBe(400);
  });
});

describe('checkSender', () => {
  it('accepts the top frame of our page, any path', () => {
    expect(() => checkSender(invokeEvent('app://studio/'))).not.toThrow();
    expect(() => checkSender(invokeEvent('app://studio/index.html#/editor/3'))).not.toThrow();
  });
});

describe('event forwarding', () => {
  const payload = { jobId: 'j1', kind: 'import', fraction: 0.5 };

  it('sends contract events with valid payloads to our page', () => {
    const wc = new FakeWebContents();
    const fwd = createEventForwarder(() => [wc as unknown as WebContents]);
    expect(fwd('job.progress', payload)).toBe(true);
    expect(wc.sent).toEqual([['job.progress', payload]]);
  });

  it('drops unknown events and invalid payloads', () => {
    const wc = new FakeWebContents();
    const log = vi.fn();
    const fwd = createEventForwarder(() => [wc as unknown as WebContents], { log });
    expect(fwd('secret.leak', { x: 1 })).toBe(false);
    expect(fwd('job.progress', { ...payload, fraction: 7 })).toBe(false);
    expect(wc.sent).toEqual([]);
    expect(log).toHaveBeenCalledTimes(2);
  });

  it('never sends to a destroyed or navigated-away page', () => {
    const gone = new FakeWebContents();
    gone.destroyed = true;
    const foreign = new FakeWebContents();
    foreign.url = 'https://evil.example/';
    const fwd = createEventForwarder(() => [gone, foreign] as unknown as WebContents[]);
    expect(fwd('job.progress', payload)).toBe(false);
    expect(gone.sent.length + foreign.sent.length).toBe(0);
  });
});

describe('studioApiFromCall', () => {
  it('has one function per method', () => {
    const api: StudioApi = studioApiFromCall(async () => ({}));
    expect(Object.keys(api).sort()).toEqual(Object.keys(methods).sort());
    for (const k of Object.keys(api)) expect(typeof (api as Record<string, unknown>)[k]).toBe('function');
  });
});
