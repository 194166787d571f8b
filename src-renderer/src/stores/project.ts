// The open project, the recent list and import jobs (with progress and cancel).
import type { EventPayload, ProjectInfo, RecentProject } from '@contract/api';
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, transport } from '../transport/current';
import { useAnnotationsStore } from './annotations';
import { useClassesStore } from './classes';
import { useHistoryStore } from './history';
import { useImagesStore } from './images';
import { useStatusStore } from './status';

export interface ImportJob {
  jobId: string;
  fraction: number;
  message?: string;
  status: 'uploading' | 'running' | 'ok' | 'cancelled' | 'error';
  summary?: string;
}

export const useProjectStore = defineStore('project', () => {
  const info = ref<ProjectInfo | null>(null);
  const recent = ref<RecentProject[]>([]);
  const mode = ref<'server' | 'electron'>('server');
  const job = ref<ImportJob | null>(null);
  /** bumped when an import finishes, so the gallery reloads */
  const imagesVersion = ref(0);
  const status = useStatusStore();
  let subscribed = false;
  /**
   * `job.done` events that arrived before their start call returned: a job over a missing folder or a
   * duplicate file ends within milliseconds, often before the client knows its id (issue 18).
   */
  const early = new Map<string, EventPayload<'job.done'>>();

  function subscribe() {
    if (subscribed) return;
    subscribed = true;
    const t = transport();
    t.on('job.progress', (p: EventPayload<'job.progress'>) => {
      if (job.value?.jobId === p.jobId && job.value.status === 'running') job.value = { ...job.value, fraction: p.fraction, message: p.message, status: 'running' };
    });
    t.on('job.done', (p: EventPayload<'job.done'>) => {
      if (job.value?.jobId !== p.jobId) {
        early.set(p.jobId, p);
        if (early.size > 50) early.delete(early.keys().next().value as string);
        return;
      }
      finished(p);
    });
  }

  /** The import's outcome, once (from the event, the early-event buffer, or jobs.get, whichever comes first). */
  function finished(p: EventPayload<'job.done'>) {
    if (job.value?.jobId !== p.jobId || (job.value.status !== 'running' && job.value.status !== 'uploading')) return;
    const skipped = p.skipped?.length ?? 0;
    const summary =
      p.status === 'ok' && p.message
        ? p.message
        : p.status === 'ok'
        ? `Imported ${p.added ?? 0} image${p.added === 1 ? '' : 's'}${skipped ? `, skipped ${skipped}: ${p.skipped!.slice(0, 3).map((s) => `${s.path.split(/[\\/]/).pop()} (${s.reason})`).join('; ')}` : ''}`
        : p.status === 'cancelled'
          ? 'Import cancelled; images imported so far were kept'
          : `Import failed: ${p.message ?? 'unknown error'}`;
    job.value = { ...job.value, fraction: 1, status: p.status, summary };
    if (p.status === 'error') status.toast(summary, 'error');
    void refresh();
    void useClassesStore().reload().catch(() => undefined); // a dataset import brings classes
    imagesVersion.value++;
  }

  /** Tracks a started job: its end may already have happened (buffered event) or be missed (socket not up). */
  async function follow(jobId: string, fraction = 0) {
    job.value = { jobId, fraction, status: 'running' };
    const seen = early.get(jobId);
    if (seen) return finished(seen);
    try {
      const r = await api()['jobs.get']({ jobId });
      if (r.state === 'done' && r.done) finished(r.done);
    } catch {
      /* an older server without jobs.get: the event still arrives */
    }
  }

  async function load() {
    subscribe();
    const r = await api()['app.info']({});
    info.value = r.project;
    recent.value = r.recent;
    mode.value = r.mode;
    // The backend line can wait: the doctor probes tfjs and WebGPU (seconds of CPU, in Electron on the main
    // process), so it is asked for once the first screen is up and the page idle, not while it loads.
    const askDoctor = () => void api()['app.doctor']({}).then((d) => (status.doctor = d), () => undefined);
    if (typeof requestIdleCallback === 'function') setTimeout(() => requestIdleCallback(askDoctor, { timeout: 2000 }), 500);
    else askDoctor();
  }

  async function refresh() {
    if (info.value) info.value = await api()['project.info']({});
  }

  /** Another project: nothing of the previous one may linger (an undo there would edit this one). */
  async function switched() {
    await useHistoryStore().settled();
    useHistoryStore().clear();
    useAnnotationsStore().clear();
    useImagesStore().clear();
    job.value = null;
    await useClassesStore().reload();
  }

  async function create(dir: string, name?: string, demo = false) {
    const r = await api()['project.create']({ dir, name: name || undefined, demo });
    await switched();
    info.value = r;
    imagesVersion.value++;
    await load();
  }

  async function open(dir: string) {
    const r = await api()['project.open']({ dir });
    await switched();
    info.value = r;
    imagesVersion.value++;
    await load();
  }

  /** Starts an import job and follows it; a call refused before any job started (a 4xx) ends the panel too. */
  async function startImport(start: () => Promise<{ jobId: string }>) {
    subscribe();
    let jobId: string;
    try {
      ({ jobId } = await start());
    } catch (err) {
      // the panel must show why and leave Import usable, not stay at "0% / Cancel"
      job.value = { jobId: '', fraction: 1, status: 'error', summary: `Import failed: ${err instanceof Error ? err.message : String(err)}` };
      throw err;
    }
    await follow(jobId);
  }

  async function importPaths(paths: string[]) {
    await startImport(() => api()['images.import']({ paths }));
  }

  async function importDataset(path: string, format?: 'coco' | 'yolo' | 'voc' | 'labelme') {
    await startImport(() => api()['datasets.import']({ path, format }));
  }

  async function uploadFiles(files: File[]) {
    const t = transport();
    const paths = t.pathForFile ? files.map((f) => t.pathForFile!(f)).filter((p): p is string => !!p) : [];
    if (paths.length) return importPaths(paths); // desktop: import in place, folders included
    if (!t.upload) throw new Error('uploading files is only needed in server mode; drop folders or use paths');
    job.value = { jobId: '', fraction: 0, status: 'uploading', message: `uploading 0/${files.length}` };
    let jobId: string;
    try {
      ({ jobId } = await t.upload(files, (done, total) => {
        job.value = { jobId: '', fraction: (0.5 * done) / total, status: 'uploading', message: `uploading ${done}/${total}` };
      }));
    } catch (err) {
      // the panel must not stay at "uploading" with Import disabled
      job.value = { jobId: '', fraction: 1, status: 'error', summary: `Upload failed: ${err instanceof Error ? err.message : String(err)}` };
      throw err;
    }
    await follow(jobId, 0.5);
  }

  async function cancelImport() {
    const id = job.value?.jobId;
    if (!id) return;
    await api()['jobs.cancel']({ jobId: id }).catch(() => undefined);
    // the job may have ended meanwhile with its event missed: read its state so the panel never stays stuck
    const r = await api()['jobs.get']({ jobId: id }).catch(() => null);
    if (r?.state === 'done' && r.done) finished(r.done);
  }

  return { info, recent, mode, job, imagesVersion, load, refresh, create, open, importPaths, importDataset, uploadFiles, cancelImport };
});
