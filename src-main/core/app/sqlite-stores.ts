// The real store factory (SQLite project folders) for the server and CLI; tests inject fakes instead.
import { createProject, openProject } from '../store/project';
import type { StoreFactory } from './studio-service';

export const sqliteStores: StoreFactory = {
  create: (dir, name) => createProject(dir, { name }),
  open: (dir) => openProject(dir),
};
