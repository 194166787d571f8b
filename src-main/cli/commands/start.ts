import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { userDataDir } from '../../core/app/recent';
import { serveStudio } from '../../server/serve-studio';
import { launchElectron } from '../electron-launcher';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio start [--project DIR] [--port N] [--server]

Starts the desktop app; without an Electron binary (or with --server) it serves the same UI to a browser
and prints the URL. Without --project the demo project (in the user data folder) opens.`;

export const start: Command = {
  summary: 'start the studio (desktop window, or the browser UI when Electron is absent)',
  async run(argv) {
    const { values } = parse(argv, { project: { type: 'string' }, port: { type: 'string' }, server: { type: 'boolean' }, help: { type: 'boolean' } }, false);
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.server) {
      const r = await launchElectron({ args: values.project ? ['--project', values.project] : [] });
      if (r.launched) return r.exitCode;
      console.log(`Desktop window unavailable: ${r.reason}.`);
      console.log('Starting the same studio in server mode instead.');
    }
    const port = values.port === undefined ? 5178 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got '${values.port}'`);
    const { server, service } = await serveStudio({ port, project: values.project });
    if (!values.project) {
      const demo = join(userDataDir(), 'demo-project');
      try {
        if (existsSync(join(demo, 'project.sqlite'))) await service.call('project.open', { dir: demo });
        else await service.call('project.create', { dir: demo, name: 'Demo', demo: true });
      } catch (err) {
        console.log(`(could not open the demo project: ${err instanceof Error ? err.message : String(err)})`);
      }
    }
    console.log(`HST Studio is running at ${server.loginUrl}`);
    console.log('Open that URL in a browser. Press Ctrl+C to stop.');
    await new Promise<void>((resolve) => {
      const stop = () => {
        void server.close().then(() => {
          service.close();
          resolve();
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
