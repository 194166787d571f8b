// Types for scripts/rebuild-electron.mjs (imported by its test).
export interface RebuildPlan {
  electronVersion: string;
  arch: string;
  platform: NodeJS.Platform;
  betterSqlite3: { dir: string; version: string };
  workDir: string;
  workModule: string;
  output: string;
  manifest: string;
}
export function electronVersionFor(projectRoot?: string, explicit?: string): string;
export function planRebuild(opts?: { projectRoot?: string; electronVersion?: string; arch?: string }): RebuildPlan;
export function rebuildForElectron(plan: RebuildPlan, log?: (msg: string) => void): Promise<void>;
