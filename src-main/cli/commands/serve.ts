import { serveStudio } from '../../server/serve-studio';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio serve [--host 127.0.0.1] [--port N] [--project DIR] [--allow-remote]

Serves the studio UI and API over HTTP/WebSocket. Open the printed URL (it carries the session token).
  --host HOST       interface to listen on (default 127.0.0.1)
  --port N          port (default 5178; 0 picks a free one)
  --project DIR     open this project at start
  --allow-remote    needed for any non-loopback host (anyone on the network who has the token gets in)`;

export const serve: Command = {
  summary: 'serve the studio UI in a browser (headless server mode)',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        host: { type: 'string' },
        port: { type: 'string' },
        project: { type: 'string' },
        'allow-remote': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      false,
    );
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const port = values.port === undefined ? 5178 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got '${values.port}'`);
    const { server, service } = await serveStudio({ host: values.host, port, project: values.project, allowRemote: values['allow-remote'] });
    console.log(`HST Studio is serving at ${server.loginUrl}`);
    console.log('Open that URL in a browser (the token in it is this session\'s password). Press Ctrl+C to stop.');
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(() => {
          service.close();
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
