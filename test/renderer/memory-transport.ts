// An in-memory Transport for store tests: records apply calls and can be told to fail.
import type { StudioApi } from '../../src-main/contract/api';
import type { Annotation, Changeset, ImageRecord, LabelClass } from '../../src-main/contract/schemas';
import type { Transport } from '../../src-renderer/src/transport/types';

export function memoryTransport() {
  const applied: Changeset[] = [];
  const anns = new Map<string, Annotation>();
  let classes: LabelClass[] = [];
  let fail: string | null = null;
  const image = (id: number): ImageRecord => ({ id, hash: `h${id}`, fileName: `${id}.jpg`, path: `/x/${id}.jpg`, width: 100, height: 80, orientation: 1, split: 'train', status: 'unlabeled', addedAt: 0 });
  const api: Partial<StudioApi> = {
    'annotations.apply': async ({ changeset }) => {
      if (fail) throw new Error(fail);
      const cs = changeset as Changeset;
      applied.push(cs);
      for (const a of cs.deleted ?? []) anns.delete(a.id);
      for (const a of cs.created ?? []) anns.set(a.id, a);
      for (const u of cs.updated ?? []) anns.set(u.after.id, u.after);
      if (cs.classes) {
        classes = classes.filter((c) => !cs.classes!.deleted.some((d) => d.id === c.id));
        classes.push(...cs.classes.created);
      }
      return { revision: applied.length, inverse: { created: [], updated: [], deleted: [] } };
    },
    'annotations.list': async ({ imageId }) => ({ items: [...anns.values()].filter((a) => a.imageId === imageId) }),
    'images.get': async ({ id }) => image(id),
    'classes.list': async () => ({ classes, counts: {} }),
  };
  const transport: Transport = {
    kind: 'memory',
    api: api as StudioApi,
    on: () => () => undefined,
    imageUrl: (img) => `media/image/${img.id}?v=${img.hash}`,
    thumbUrl: (img) => `media/thumb/${img.id}?v=${img.hash}`,
  };
  return {
    transport,
    applied,
    anns,
    setClasses: (c: LabelClass[]) => (classes = c),
    failNext: (msg: string | null) => (fail = msg),
  };
}
