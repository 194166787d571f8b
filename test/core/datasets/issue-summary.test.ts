import { describe, expect, it } from 'vitest';
import { countIssues, groupIssues, messagePattern, summarizeIssues } from '../../../src-main/core/datasets/issue-summary';
import type { DatasetIssue } from '../../../src-main/core/datasets/types';

const w = (file: string, message: string, record?: string): DatasetIssue => ({ level: 'warning', file, record, message });

describe('issue summaries', () => {
  it('groups by the message with names, paths and numbers blanked', () => {
    expect(messagePattern("image 'a b.jpg' not found in /data/x/y (line 12, 3.5 px)")).toBe("image '…' not found in … (line #, # px)");
    const issues = [
      ...Array.from({ length: 343 }, (_, i) => w(`labels/${i}.txt`, `image file not found: /data/img${i}.jpg`)),
      { level: 'error' as const, file: 'a.json', message: 'bbox has a negative size (width -1, height 2)' },
      w('data.yaml', 'no class names given; classes are named class0, class1, …', 'names'),
    ];
    const groups = groupIssues(issues);
    expect(groups.map((g) => [g.level, g.count])).toEqual([['error', 1], ['warning', 343], ['warning', 1]]);
    const lines = summarizeIssues(issues);
    expect(lines).toEqual([
      'error: a.json: bbox has a negative size (width -1, height 2)',
      'warning: labels/0.txt: image file not found: /data/img0.jpg',
      'warning: labels/1.txt: image file not found: /data/img1.jpg',
      'warning: labels/2.txt: image file not found: /data/img2.jpg',
      '  …and 340 more like this',
      'warning: data.yaml: names: no class names given; classes are named class0, class1, …',
    ]);
    expect(countIssues(issues)).toBe('1 error, 344 warnings');
  });

  it('caps the number of kinds shown', () => {
    const many = Array.from({ length: 30 }, (_, i) => w('f', `${'kind'.repeat(i + 1)} happened`));
    const lines = summarizeIssues(many, { maxGroups: 5 });
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe('…and 25 more issues of 25 other kinds');
  });
});
