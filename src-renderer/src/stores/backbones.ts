// The backbone manager's state: installed backbones, the catalogue, downloads in flight (progress from job.*
// events, cancel keeps the partial file for a resume), import from a file, the default, and whether the manager
// is open (the first Fine-tune without a backbone opens it).
import type { BackboneCatalogueEntry, BackboneInfo } from '@contract/api';
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, transport } from '../transport/current';
import { messageOf } from './status';

export interface DownloadState {
  jobId: string;
  fraction: number;
  message: string;
}

export const useBackbonesStore = defineStore('backbones', () => {
  const installed = ref<BackboneInfo[]>([]);
  const catalogue = ref<BackboneCatalogueEntry[]>([]);
  const defaultId = ref<string | null>(null);
  const recommended = ref<string | null>(null);
  const dir = ref('');
  const open = ref(false);
  /** opened by the first Fine-tune without a backbone: show the one recommended choice first */
  const firstRun = ref(false);
  const downloads = ref<Record<string, DownloadState>>({});
  /** last error per catalogue id (or 'import'), and whether it was the network being unreachable */
  const errors = ref<Record<string, { message: string; offline: boolean }>>({});
  let off: (() => void)[] = [];

  async function load() {
    const r = await api()['backbones.list']({});
    installed.value = r.installed;
    catalogue.value = r.catalogue;
    defaultId.value = r.default;
    recommended.value = r.recommended;
    dir.value = r.dir;
  }

  function attach() {
    if (off.length) return;
    const t = transport();
    const idOf = (jobId: string) => Object.entries(downloads.value).find(([, d]) => d.jobId === jobId)?.[0];
    off = [
      t.on('job.progress', (p) => {
        const id = idOf(p.jobId);
        if (id) downloads.value = { ...downloads.value, [id]: { jobId: p.jobId, fraction: p.fraction, message: p.message ?? '' } };
      }),
      t.on('job.done', (p) => {
        const id = idOf(p.jobId);
        if (!id) return;
        const { [id]: _done, ...rest } = downloads.value;
        downloads.value = rest;
        if (p.status === 'error') errors.value = { ...errors.value, [id]: { message: p.message ?? 'the download failed', offline: /offline/.test(p.message ?? '') } };
        void load();
      }),
    ];
  }

  async function download(id: string) {
    attach();
    const { [id]: _e, ...rest } = errors.value;
    errors.value = rest;
    const { jobId } = await api()['backbones.download']({ id });
    downloads.value = { ...downloads.value, [id]: { jobId, fraction: 0, message: 'starting…' } };
  }

  async function cancel(id: string) {
    const d = downloads.value[id];
    if (d) await api()['jobs.cancel']({ jobId: d.jobId });
  }

  async function run(key: string, work: () => Promise<unknown>) {
    const { [key]: _e, ...rest } = errors.value;
    errors.value = rest;
    try {
      await work();
    } catch (err) {
      errors.value = { ...errors.value, [key]: { message: messageOf(err), offline: false } };
    }
    await load();
  }

  /** A picked or dropped File: by path in Electron, uploaded in server mode. */
  async function importFile(file: File) {
    const t = transport();
    await run('import', async () => {
      const path = t.pathForFile?.(file);
      if (path) await api()['backbones.import']({ path });
      else if (t.uploadBackbone) await t.uploadBackbone(file);
      else throw new Error('this window cannot read files: type the file path instead');
    });
  }

  const importPath = (path: string) => run('import', () => api()['backbones.import']({ path }));
  const remove = (id: string) => run(id, () => api()['backbones.remove']({ id }));
  const setDefault = (id: string) => run(id, () => api()['backbones.setDefault']({ id }));

  async function show(first = false) {
    firstRun.value = first;
    open.value = true;
    attach();
    await load();
  }

  function hide() {
    open.value = false;
    firstRun.value = false;
  }

  return { installed, catalogue, defaultId, recommended, dir, open, firstRun, downloads, errors, load, download, cancel, importFile, importPath, remove, setDefault, show, hide };
});
