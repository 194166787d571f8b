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

/** A zod error as "field `a.b[2]`: message; …" (the path is what the user needs to find the bad value). */
export function formatZodIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => {
      const p = i.path.reduce<string>(
        (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
        '',
      );
      return p ? `field '${p}': ${i.message}` : i.message;
    })
    .join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '');
}
