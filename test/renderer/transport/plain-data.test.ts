// Issue 18: renaming a class sent a Vue proxy to the transport; Electron's structured clone refused it, the
// status bar still said "Saved" and the name came back after a reload. Every call now passes a plain-data
// guard, and a write that throws before it returns a promise counts as failed.
import { methods, type StudioApi } from '../../../src-main/contract/api';
import type { LabelClass } from '../../../src-main/contract/schemas';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { reactive } from 'vue';
import { useClassesStore } from '../../../src-renderer/src/stores/classes';
import { useHistoryStore } from '../../../src-renderer/src/stores/history';
import { useStatusStore } from '../../../src-renderer/src/stores/status';
import { api, setTransport } from '../../../src-renderer/src/transport/current';
import { toPlainData } from '../../../src-renderer/src/transport/plain-data';
import type { Transport } from '../../../src-renderer/src/transport/types';

/** Like Electron's contextBridge: every argument is structured-cloned synchronously (a proxy throws). */
function cloningTransport(impl: Partial<Record<string, (input: unknown) => unknown>> = {}) {
  const received: { name: string; input: unknown }[] = [];
  const fns: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of Object.keys(methods)) {
    fns[name] = (input) => {
      const copy = structuredClone(input); // throws DataCloneError for a Vue proxy, as Electron does
      received.push({ name, input: copy });
      return Promise.resolve(impl[name] ? impl[name]!(copy) : { ok: true });
    };
  }
  const t: Transport = { kind: 'electron', api: fns as unknown as StudioApi, on: () => () => undefined, imageUrl: () => '', thumbUrl: () => '' };
  return { t, received };
}

const cat: LabelClass = { id: 1, name: 'cat', color: '#4f9dff', hotkey: null, order: 0 };

beforeEach(() => setActivePinia(createPinia()));

describe('plain-data guard in front of the transport', () => {
  it('lets every contract method be called with reactive data and delivers plain copies', async () => {
    const { t, received } = cloningTransport();
    setTransport(t);
    const names = Object.keys(methods) as (keyof StudioApi)[];
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) {
      const state = reactive({ changeset: { classes: { updated: [{ before: cat, after: { ...cat, name: 'kitty' } }] } }, ids: [1, 2], nested: { deep: [{ x: 1 }] } });
      await expect((api()[name] as (i: unknown) => Promise<unknown>)(state), name).resolves.toEqual({ ok: true });
    }
    expect(received.map((r) => r.name)).toEqual(names);
    expect((received[0].input as { ids: number[] }).ids).toEqual([1, 2]);
  });

  it('refuses what JSON or structured clone would mangle, naming where it sits', () => {
    expect(() => toPlainData({ a: { when: new Date() } })).toThrow(/input\.a\.when is a Date/);
    expect(() => toPlainData({ f: () => 1 })).toThrow(/input\.f is a function/);
    expect(() => toPlainData({ m: new Map() })).toThrow(/Map/);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => toPlainData(loop)).toThrow(/refers back to itself/);
    // the same object twice is fine (not a cycle)
    const shared = { x: 1 };
    expect(toPlainData({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('a class rename made from the store\'s reactive classes is saved, and a reload shows the new name', async () => {
    let stored: LabelClass[] = [cat];
    const { t } = cloningTransport({
      'classes.list': () => ({ classes: stored, counts: {} }),
      'annotations.apply': (input) => {
        const cs = (input as { changeset: { classes: { updated: { after: LabelClass }[] } } }).changeset;
        stored = stored.map((c) => cs.classes.updated.find((u) => u.after.id === c.id)?.after ?? c);
        return { revision: 1, inverse: { created: [], updated: [], deleted: [] } };
      },
    });
    setTransport(t);
    const classes = useClassesStore();
    await classes.reload();
    const shown = classes.classes[0]; // a reactive proxy, exactly what the Classes screen hands over
    await useHistoryStore().commit({ created: [], updated: [], deleted: [], classes: { created: [], updated: [{ before: shown, after: { ...shown, name: 'kitty' } }], deleted: [] }, label: 'rename' });
    expect(useStatusStore().saveError).toBeNull();
    expect(useStatusStore().saveState.text).toBe('Saved');
    await classes.reload();
    expect(classes.classes[0].name).toBe('kitty');
  });

  it('a write whose transport throws synchronously shows "Not saved", never "Saved"', async () => {
    const fns = Object.fromEntries(Object.keys(methods).map((n) => [n, () => Promise.resolve({ ok: true })])) as Record<string, unknown>;
    fns['annotations.apply'] = () => {
      throw new Error("Failed to execute 'structuredClone' on 'Window': #<Object> could not be cloned.");
    };
    fns['classes.list'] = () => Promise.resolve({ classes: [cat], counts: {} });
    setTransport({ kind: 'electron', api: fns as unknown as StudioApi, on: () => () => undefined, imageUrl: () => '', thumbUrl: () => '' });
    const status = useStatusStore();
    await status.track(() => Promise.resolve(1)); // an earlier write succeeded: "Saved"
    expect(status.saveState.text).toBe('Saved');
    await useHistoryStore().commit({ created: [], updated: [], deleted: [], classes: { created: [], updated: [{ before: cat, after: { ...cat, name: 'x' } }], deleted: [] } });
    expect(status.saveError).toMatch(/could not be cloned/);
    expect(status.saveState.text).toBe('Not saved — see message');
    expect(useHistoryStore().canUndo).toBe(false); // the failed edit is not in the history
  });
});
