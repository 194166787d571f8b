import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

/** node:util parseArgs with strict checking; unknown flags become a readable error. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = true) {
  return parseArgs({ args: argv, options, allowPositionals, strict: true });
}
