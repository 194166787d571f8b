// The CLI's command table. Names are stable (issue #2): start, doctor, serve, project, import,
// export-dataset, train, eval, predict, export-model, features.
import type { Command } from './command';
import { backbone } from './backbone';
import { doctor } from './doctor';
import { features } from './features';
import { project } from './project';
import { exportDatasetCommand } from './export-dataset';
import { exportModelCommand } from './export-model';
import { exportTrainingCommand } from './export-training';
import { importModelCommand } from './import-model';
import { importCommand } from './import';
import { serve } from './serve';
import { start } from './start';
import { train } from './train';
import { evalCommand } from './eval';
import { predict } from './predict';

export const commands: Record<string, Command> = {
  backbone,
  doctor,
  features,
  project,
  'export-dataset': exportDatasetCommand,
  'export-model': exportModelCommand,
  'export-training': exportTrainingCommand,
  'import-model': importModelCommand,
  import: importCommand,
  serve,
  start,
  train,
  eval: evalCommand,
  predict,
};
