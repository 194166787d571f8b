// Many files with the same problem must read as one problem: issues are grouped by their message with the
// specifics (numbers, quoted names, paths) blanked out, a few examples of each group are shown, and the rest
// is counted ("…and 340 more like this"). The full list goes to the import report file, not the terminal.
import { formatIssue } from './issues';
import type { DatasetIssue } from './types';

export interface IssueGroup {
  level: DatasetIssue['level'];
  /** the message with its specifics blanked: what the group's issues have in common */
  pattern: string;
  count: number;
  /** the first issues of the group, in the order found */
  examples: DatasetIssue[];
}

/** The part of a message that names no particular file, record or value. */
export function messagePattern(message: string): string {
  return message
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/(?:[A-Za-z]:)?[\\/][^\s,;:()'"]+/g, '…') // absolute paths
    .replace(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, '#');
}

export function groupIssues(issues: readonly DatasetIssue[], examplesPerGroup = 3): IssueGroup[] {
  const groups = new Map<string, IssueGroup>();
  for (const i of issues) {
    const pattern = messagePattern(i.message);
    const key = `${i.level}\u0000${pattern}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { level: i.level, pattern, count: 0, examples: [] }));
    g.count++;
    if (g.examples.length < examplesPerGroup) g.examples.push(i);
  }
  // errors first; within a level, the order in which the groups were first met
  return [...groups.values()].sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
}

/**
 * Lines for a terminal or a message box: each issue at most once, at most `examplesPerGroup` per group and
 * `maxGroups` groups, each cut group closed by "…and N more like this".
 */
export function summarizeIssues(issues: readonly DatasetIssue[], opts: { examplesPerGroup?: number; maxGroups?: number } = {}): string[] {
  const per = opts.examplesPerGroup ?? 3;
  const maxGroups = opts.maxGroups ?? 20;
  const groups = groupIssues(issues, per);
  const lines: string[] = [];
  for (const g of groups.slice(0, maxGroups)) {
    for (const e of g.examples) lines.push(`${e.level}: ${formatIssue(e)}`);
    if (g.count > g.examples.length) lines.push(`  …and ${g.count - g.examples.length} more like this`);
  }
  if (groups.length > maxGroups) {
    const rest = groups.slice(maxGroups).reduce((s, g) => s + g.count, 0);
    lines.push(`…and ${rest} more issue${rest === 1 ? '' : 's'} of ${groups.length - maxGroups} other kind${groups.length - maxGroups === 1 ? '' : 's'}`);
  }
  return lines;
}

/** "3 errors, 12 warnings" */
export function countIssues(issues: readonly DatasetIssue[]): string {
  const e = issues.filter((i) => i.level === 'error').length;
  const w = issues.length - e;
  const parts = [];
  if (e) parts.push(`${e} error${e === 1 ? '' : 's'}`);
  if (w) parts.push(`${w} warning${w === 1 ? '' : 's'}`);
  return parts.join(', ') || 'no issues';
}
