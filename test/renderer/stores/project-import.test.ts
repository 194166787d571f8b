// The import panel stuck at "0% / Cancel" (issue 18): a fast job's job.done arrived before images.import
// returned its id, or while the socket was still connecting. The store now keeps early events and reads
// the job's state after starting it.
import type { EventPayload, StudioApi } from '../../../src-main/contract/api';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useProjectStore } from '../../../src-renderer/src/stores/project';
import { setTransport } from '../../../src-renderer/src/transport/current';

type Done = EventPayload<'job.done'>;

function transport(opts: { emitBeforeReturn: boolean; jobsGet: boolean }) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const finished = new Map<string, Done>();
  const cancels: string[] = [];
  const flags = { jobsGet: opts.jobsGet };
  let n = 0;
  const api: Partial<StudioApi> = {
    'images.import': async () => {
      const jobId = `j${++n}`;
      const done: Done = { jobId, kind: 'import', status: 'ok', added: 0, skipped: [{ path: '/data/missing', reason: 'no such file or folder' }] };
      finished.set(jobId, done);
      if (opts.emitBeforeReturn) listeners.get('job.done')?.forEach((l) => l(done));
      return { jobId };
    },
    'jobs.get': async ({ jobId }) => {
      if (!flags.jobsGet) throw new Error('jobs.get failed (HTTP 404)');
      const d = finished.get(jobId);
      return d ? { state: 'done' as const, kind: d.kind, done: d } : { state: 'running' as const, kind: 'import' };
    },
    'jobs.cancel': async ({ jobId }) => {
      cancels.push(jobId);
      return { ok: true as const };
    },
    'project.info': async () => ({ dir: '/p', name: 'p', revision: 0, imageCount: 0 }),
    'classes.list': async () => ({ classes: [], counts: {} }),
  };
  setTransport({
    kind: 'memory',
    api: api as StudioApi,
    on: (event, cb) => {
      let s = listeners.get(event);
      if (!s) listeners.set(event, (s = new Set()));
      s.add(cb as (p: unknown) => void);
      return () => s!.delete(cb as (p: unknown) => void);
    },
    imageUrl: () => '',
    thumbUrl: () => '',
  });
  return { cancels, flags };
}

beforeEach(() => setActivePinia(createPinia()));

describe('import panel', () => {
  it('shows the outcome of a job whose job.done arrived before its id did', async () => {
    transport({ emitBeforeReturn: true, jobsGet: false });
    const project = useProjectStore();
    await project.importPaths(['/data/missing']);
    expect(project.job?.status).toBe('ok');
    expect(project.job?.summary).toMatch(/Imported 0 images, skipped 1: missing \(no such file or folder\)/);
  });

  it('reads the state of a job whose event was missed altogether (socket not connected yet)', async () => {
    transport({ emitBeforeReturn: false, jobsGet: true });
    const project = useProjectStore();
    await project.importPaths(['/data/missing']);
    expect(project.job?.status).toBe('ok');
  });

  it('Cancel on a job that ended unseen ends the panel instead of leaving it at 0%', async () => {
    const t = transport({ emitBeforeReturn: false, jobsGet: false });
    const project = useProjectStore();
    await project.importPaths(['/data/missing']);
    expect(project.job?.status).toBe('running'); // nothing told the client yet
    t.flags.jobsGet = true;
    await project.cancelImport();
    expect(t.cancels).toEqual(['j1']);
    expect(project.job?.status).toBe('ok');
  });
});
