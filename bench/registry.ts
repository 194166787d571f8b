// Every benchmark `npm run bench -- <name>` knows: one line each, loaded only when run.
import type { BenchModule } from './types';

export const benchmarks: Record<string, () => Promise<BenchModule>> = {
  compute: () => import('./compute'),
  'training-data': () => import('./training-data'),
  geometry: () => import('./geometry'),
  export: () => import('./export'),
  finetune: () => import('./finetune'),
  gpu: () => import('./gpu'),
  heads: () => import('./heads'),
  incremental: () => import('./incremental'),
  model: () => import('./model'),
  realphoto: () => import('./realphoto'),
  store: () => import('./store'),
  tiles: () => import('./tiles'),
  ui: () => import('./ui'),
  'torch-trainer': () => import('./torch-trainer'),
  'vit-pass': () => import('./vit-pass'),
};
