import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../../src-main/contract/api';
import { useAnnotationsStore } from '../../../src-renderer/src/stores/annotations';
import { useHistoryStore } from '../../../src-renderer/src/stores/history';
import { useImagesStore } from '../../../src-renderer/src/stores/images';
import { useTagsStore } from '../../../src-renderer/src/stores/tags';
import { setTransport } from '../../../src-renderer/src/transport/current';
import { memoryTransport } from '../memory-transport';

let mem: ReturnType<typeof memoryTransport>;
beforeEach(() => {
  setActivePinia(createPinia());
  mem = memoryTransport();
  (mem.transport.api as Partial<StudioApi>)['tags.list'] = async () => ({ tags: [{ tag: 'night', count: 3 }] });
  setTransport(mem.transport);
});

describe('tags store', () => {
  it('tags the open image as one changeset, shows it at once, and undo/redo remove and restore it', async () => {
    const ann = useAnnotationsStore();
    const tags = useTagsStore();
    const history = useHistoryStore();
    await tags.reload();
    await ann.load(1);
    await tags.add(1, '  cat ');
    expect(ann.image?.tags).toEqual(['cat']);
    expect(mem.applied.at(-1)!.tags).toEqual({ added: [{ imageId: 1, tag: 'cat' }], removed: [] });
    await tags.add(1, 'night', ann.image!.tags);
    expect(ann.image?.tags).toEqual(['cat', 'night']);
    expect(tags.all).toEqual([{ tag: 'night', count: 4 }, { tag: 'cat', count: 1 }]);
    // a tag the image has already is not sent again
    await tags.add(1, 'cat', ann.image!.tags);
    expect(mem.applied).toHaveLength(2);
    await history.undo();
    expect(ann.image?.tags).toEqual(['cat']);
    expect(mem.applied.at(-1)!.tags).toEqual({ added: [], removed: [{ imageId: 1, tag: 'night' }] });
    await history.undo();
    expect(ann.image).not.toHaveProperty('tags');
    expect(tags.all).toEqual([{ tag: 'night', count: 3 }]);
    await history.redo();
    expect(ann.image?.tags).toEqual(['cat']);
  });

  it('keeps the gallery records in step and puts the tag into the gallery query', async () => {
    const images = useImagesStore();
    images.items = [{ id: 1, hash: 'h', fileName: 'a.jpg', path: 'a', width: 1, height: 1, orientation: 1, split: 'train', status: 'unlabeled', addedAt: 0 }];
    await useTagsStore().add(1, 'dog');
    expect(images.items[0].tags).toEqual(['dog']);
    images.tag = 'dog';
    expect(images.query.tag).toBe('dog');
  });
});
