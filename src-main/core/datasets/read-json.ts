// JSON files with errors that say where: "truncated at line 3, column 17 (byte 52)".
import { readFile } from 'node:fs/promises';

export async function readJsonFile(abs: string, shown: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new Error(`${shown}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseJsonText(text, shown);
}

export function parseJsonText(text: string, shown: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /position (\d+)/.exec(msg);
    const truncated = /Unexpected end of JSON input|Unterminated|end of data/i.test(msg);
    let where = '';
    const pos = m ? Number(m[1]) : truncated ? text.length : -1;
    if (pos >= 0) {
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col} (byte ${pos})`;
    }
    throw new Error(`${shown}: ${truncated ? 'JSON is truncated' : 'invalid JSON'}${where}: ${msg}`);
  }
}
