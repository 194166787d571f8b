// The core as the desktop app uses it: the transport-independent StudioService over SQLite project stores,
// viewed as the contract's StudioApi (for IPC) and as a MediaProvider (for app://studio/media/…).
// This is the one place the shell touches core constructors, so core changes land here only.
import { join } from 'node:path';
import type { StudioApi } from '../contract/api';
import { RecentList } from '../core/app/recent';
import { StudioService } from '../core/app/studio-service';
import { createProject, openProject } from '../core/store/project';
import { studioApiFromCall, type Emit } from './ipc';
import type { MediaProvider } from './protocol';

export interface ElectronStudio {
  service: StudioService;
  api: StudioApi;
  media: MediaProvider;
  close(): void;
}

export function createElectronStudio(opts: { emit: Emit; version: string; userData: string }): ElectronStudio {
  const service = new StudioService({
    mode: 'electron',
    version: opts.version,
    stores: { create: (dir, name) => createProject(dir, { name }), open: (dir) => openProject(dir) },
    doctor: async () => {
      // Loaded on demand: tfjs is heavy and the window should not wait for it at start.
      const { initCompute } = await import('../core/compute/engine');
      const info = await initCompute();
      return { backend: info.backend, threads: info.threads, tfjsVersion: info.tfjsVersion, extraKernels: info.extraKernels, notes: info.notes, webgpu: info.webgpu };
    },
    recent: new RecentList(join(opts.userData, 'recent-projects.json')),
  });
  const unsubscribe = service.subscribe(opts.emit);
  return {
    service,
    // service.call validates input and output against the contract again; cheap, and keeps one code path.
    api: studioApiFromCall((name, input) => service.call(name, input)),
    media: {
      project: () => service.project,
      imageLevel: (id, max) => service.imageLevel(id, max),
      thumbnail: (id, size) => service.thumbnail(id, size),
      download: (id) => service.downloads.get(id),
    },
    close: () => {
      unsubscribe();
      service.close();
    },
  };
}
