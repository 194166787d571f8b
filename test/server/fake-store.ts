// An in-memory ProjectStore for transport tests only (the real server always uses the SQLite store).
import type { Annotation, ChangesetInput, ImageRecord, LabelClass } from '../../src-main/contract/schemas';
import { Changeset } from '../../src-main/contract/schemas';
import type { ProjectStore } from '../../src-main/core/store/types';

export function fakeStore(dir: string, imagePath = '/nonexistent.png'): ProjectStore & { images: ImageRecord[] } {
  let rev = 0;
  const anns = new Map<string, Annotation>();
  const classes = new Map<number, LabelClass>();
  const images: ImageRecord[] = [
    { id: 1, hash: 'h1', fileName: 'a.png', path: imagePath, width: 4, height: 3, orientation: 1, split: 'train', status: 'unlabeled', addedAt: 1 },
  ];
  return {
    dir,
    name: 'fake',
    images,
    close() {},
    revision: () => rev,
    listClasses: () => [...classes.values()],
    listImages: (q = {}) => {
      const items = images.filter((i) => (q.classId ? [...anns.values()].some((a) => a.imageId === i.id && a.classId === q.classId) : true));
      return { total: items.length, items: items.slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 100)) };
    },
    getImage: (id) => images.find((i) => i.id === id) ?? null,
    imagePath: () => imagePath,
    annotationsOf: (imageId) => [...anns.values()].filter((a) => a.imageId === imageId),
    classCounts: () => {
      const out: Record<number, number> = {};
      for (const a of anns.values()) out[a.classId] = (out[a.classId] ?? 0) + 1;
      return out;
    },
    apply(input: ChangesetInput) {
      const cs = Changeset.parse(input);
      for (const c of cs.classes?.created ?? []) classes.set(c.id, c);
      for (const u of cs.classes?.updated ?? []) classes.set(u.after.id, u.after);
      for (const a of cs.created) anns.set(a.id, a);
      for (const u of cs.updated) anns.set(u.after.id, u.after);
      for (const a of cs.deleted) anns.delete(a.id);
      for (const c of cs.classes?.deleted ?? []) classes.delete(c.id);
      rev++;
      const inverse = Changeset.parse({
        created: cs.deleted,
        deleted: cs.created,
        updated: cs.updated.map((u) => ({ before: u.after, after: u.before })),
        classes: cs.classes && { created: cs.classes.deleted, deleted: cs.classes.created, updated: cs.classes.updated.map((u) => ({ before: u.after, after: u.before })) },
      });
      return { revision: rev, inverse };
    },
    setSplit() {},
    setStatus() {},
    async ingest() {
      return { added: [], skipped: [] };
    },
    async importDataset() {
      return { images: 0, annotations: 0, classes: 0, warnings: [] };
    },
    toDataset: () => ({ images: [], classes: [], annotations: [], issues: [] }),
    async thumbnail() {
      return Buffer.from([0xff, 0xd8, 0xff]);
    },
  };
}
