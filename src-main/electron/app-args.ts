// Arguments the desktop app understands (`hst-studio start --project DIR` passes them through). Electron's
// argv also carries its own binary, the main script (unpackaged) and Chromium switches: everything unknown
// is ignored rather than rejected, so a switch added by a test runner cannot stop the app.
export interface AppArgs {
  project?: string;
}

export function parseAppArgs(argv: readonly string[]): AppArgs {
  const out: AppArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--project' && i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.project = argv[++i];
    else if (a.startsWith('--project=') && a.length > '--project='.length) out.project = a.slice('--project='.length);
  }
  return out;
}
