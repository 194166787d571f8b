// `hst-studio` CLI: a command table; each command lives in its own file under src-main/cli/commands/.
import { commands } from './commands/index';

const HELP = `hst-studio — label images and fine-tune HST models

Usage: hst-studio [command] [options]

Commands:
${'{{list}}'}

Run \`hst-studio <command> --help\` for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP.replace('{{list}}', Object.entries(commands).map(([k, c]) => `  ${k.padEnd(16)}${c.summary}`).join('\n')));
    return 0;
  }
  const cmd = commands[name ?? 'start'];
  if (!cmd) {
    console.error(`hst-studio: unknown command '${name}'. Run 'hst-studio --help'.`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    // Users see a sentence, never a stack trace; HST_DEBUG=1 shows the stack.
    console.error(`hst-studio ${name ?? 'start'}: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.HST_DEBUG) console.error(err);
    return 1;
  }
}
