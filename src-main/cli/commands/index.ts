// The CLI's command table. Names are stable (issue #2): start, doctor, serve, project, import,
// export-dataset, train, eval, predict, export-model, features.
import type { Command } from './command';
import { doctor } from './doctor';

export const commands: Record<string, Command> = {
  doctor,
};
