import { describe, expect, it } from 'vitest';
import { parseAppArgs } from '../../src-main/electron/app-args';

describe('parseAppArgs', () => {
  it('reads --project DIR and --project=DIR among Electron/Chromium arguments', () => {
    expect(parseAppArgs(['/app/main.js', '--project', '/data/cats'])).toEqual({ project: '/data/cats' });
    expect(parseAppArgs(['--no-sandbox', '--project=/data/dogs', '--inspect=0'])).toEqual({ project: '/data/dogs' });
  });

  it('ignores a missing value and unknown switches', () => {
    expect(parseAppArgs(['/app/main.js', '--project'])).toEqual({});
    expect(parseAppArgs(['--project', '--remote-debugging-port=0'])).toEqual({});
    expect(parseAppArgs(['--project='])).toEqual({});
    expect(parseAppArgs(['--whatever', 'x'])).toEqual({});
  });
});
