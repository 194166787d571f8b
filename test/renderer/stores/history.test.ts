import type { Annotation } from '../../../src-main/contract/schemas';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useAnnotationsStore } from '../../../src-renderer/src/stores/annotations';
import { useClassesStore } from '../../../src-renderer/src/stores/classes';
import { useHistoryStore } from '../../../src-renderer/src/stores/history';
import { useStatusStore } from '../../../src-renderer/src/stores/status';
import { setTransport } from '../../../src-renderer/src/transport/current';
import { memoryTransport } from '../memory-transport';

const box = (id: string, imageId: number, x = 0): Annotation => ({
  id, imageId, classId: 1, geometry: { kind: 'box', x, y: 0, w: 10, h: 10 }, source: 'human', score: null, modelVersion: null, createdAt: 1, updatedAt: 1,
});

let mem: ReturnType<typeof memoryTransport>;
beforeEach(() => {
  setActivePinia(createPinia());
  mem = memoryTransport();
  mem.setClasses([{ id: 1, name: 'cat', color: '#4f9dff', hotkey: null, order: 0 }]);
  setTransport(mem.transport);
});

describe('history store', () => {
  it('applies an edit locally, persists it as one changeset, and undoes/redoes it', async () => {
    const ann = useAnnotationsStore();
    const history = useHistoryStore();
    await ann.load(1);
    await history.commit({ created: [box('a', 1)], updated: [], deleted: [], label: 'draw box' });
    expect(ann.list.map((a) => a.id)).toEqual(['a']);
    expect(mem.applied).toHaveLength(1);
    expect(mem.anns.has('a')).toBe(true);

    await history.undo();
    expect(ann.list).toEqual([]);
    expect(mem.anns.has('a')).toBe(false);
    expect(mem.applied[1].deleted.map((a) => a.id)).toEqual(['a']);

    await history.redo();
    expect(ann.list.map((a) => a.id)).toEqual(['a']);
    expect(mem.anns.has('a')).toBe(true);
    expect(useStatusStore().lastSavedAt).not.toBeNull();
  });

  it('keeps history across image switches: undo persists on the other image without touching the open one', async () => {
    const ann = useAnnotationsStore();
    const history = useHistoryStore();
    await ann.load(1);
    await history.commit({ created: [box('a', 1)], updated: [], deleted: [], label: 'draw box' });
    await ann.load(2);
    await history.commit({ created: [box('b', 2)], updated: [], deleted: [], label: 'draw box' });
    await history.undo(); // removes b (open image)
    expect(ann.list).toEqual([]);
    await history.undo(); // removes a on image 1
    expect(mem.anns.size).toBe(0);
    await ann.load(1);
    expect(ann.list).toEqual([]);
    expect(history.canRedo).toBe(true);
  });

  it('redo stack is cleared by a new edit', async () => {
    const ann = useAnnotationsStore();
    const history = useHistoryStore();
    await ann.load(1);
    await history.commit({ created: [box('a', 1)], updated: [], deleted: [], label: 'x' });
    await history.undo();
    await history.commit({ created: [box('c', 1)], updated: [], deleted: [], label: 'y' });
    expect(history.canRedo).toBe(false);
  });

  it('on a failed save shows the message, reloads the truth and drops the entry', async () => {
    const ann = useAnnotationsStore();
    const history = useHistoryStore();
    const status = useStatusStore();
    await ann.load(1);
    mem.failNext('disk full');
    await history.commit({ created: [box('a', 1)], updated: [], deleted: [], label: 'draw box' });
    expect(status.toasts.at(-1)?.text).toContain('disk full');
    expect(status.toasts.at(-1)?.kind).toBe('error');
    expect(ann.list).toEqual([]); // re-read from the (unchanged) backend
    expect(history.canUndo).toBe(false);
  });

  it('tracks class edits and counts locally', async () => {
    const classes = useClassesStore();
    const history = useHistoryStore();
    const ann = useAnnotationsStore();
    await classes.reload();
    await ann.load(1);
    const dog = classes.draft('dog');
    expect(dog.id).toBe(2);
    await history.commit({ created: [], updated: [], deleted: [], classes: { created: [dog], updated: [], deleted: [] }, label: 'add class' });
    expect(classes.classes.map((c) => c.name)).toEqual(['cat', 'dog']);
    await history.commit({ created: [{ ...box('a', 1), classId: 2 }], updated: [], deleted: [], label: 'draw' });
    expect(classes.counts[2]).toBe(1);
    await history.undo();
    await history.undo();
    expect(classes.classes.map((c) => c.name)).toEqual(['cat']);
  });
});
