// Collects problems found while reading a dataset, each naming the file, the record and the problem.
import type { DatasetIssue } from './types';

export class IssueList {
  readonly items: DatasetIssue[] = [];
  error(file: string, record: string | undefined, message: string): void {
    this.items.push({ level: 'error', file, record, message });
  }
  warn(file: string, record: string | undefined, message: string): void {
    this.items.push({ level: 'warning', file, record, message });
  }
  get errorCount(): number {
    return this.items.filter((i) => i.level === 'error').length;
  }
}

/** "file: record: message", the one format the CLI and error messages use. */
export function formatIssue(i: DatasetIssue): string {
  return `${i.file}${i.record ? `: ${i.record}` : ''}: ${i.message}`;
}

type ZodIssueLike = { path: readonly PropertyKey[]; message: string; code?: string; errors?: readonly (readonly ZodIssueLike[])[] };

/**
 * A zod error as "field `a.b[2]`: message; …" (the path is what the user needs to find the bad value). One clause
 * per field: zod reports `-1.5` for an `int().nonnegative()` twice, and a union as a bare "Invalid input".
 */
export function formatZodIssues(issues: readonly ZodIssueLike[]): string {
  const byPath = new Map<string, string>();
  for (const i of issues) {
    const p = i.path.reduce<string>(
      (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
      '',
    );
    if (byPath.has(p)) continue;
    byPath.set(p, i.code === 'invalid_union' && i.errors?.length ? unionMessage(i.errors) : i.message);
  }
  const clauses = [...byPath].map(([p, m]) => (p ? `field '${p}': ${m}` : m));
  return clauses.slice(0, 5).join('; ') + (clauses.length > 5 ? `; and ${clauses.length - 5} more` : '');
}

/** "expected string or number, received null" from the branches' own "expected X, received Y" messages. */
function unionMessage(branches: readonly (readonly ZodIssueLike[])[]): string {
  const expected: string[] = [];
  let received = '';
  for (const b of branches) {
    const m = /expected (.+?), received (.+)$/.exec(b[0]?.message ?? '');
    if (!m) return b[0]?.message ?? 'Invalid input';
    if (!expected.includes(m[1])) expected.push(m[1]);
    received = m[2];
  }
  return `Invalid input: expected ${expected.join(' or ')}, received ${received}`;
}
