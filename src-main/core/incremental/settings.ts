// Incremental-update settings: defaults, overridden by the project setting `incremental` (an object with any
// of these keys), overridden by what the caller passes. Bad values are named with the field.
export interface IncrementalSettings {
  /** off switch */
  enabled: boolean;
  /** wait this long after the last change before updating (every new change restarts the wait) */
  debounceMs: number;
  /** 'auto': fast when a feature cache is possible, else full; or force one */
  mode: 'auto' | 'fast' | 'full';
  /** optimizer steps per update */
  steps: number;
  batchSize: number;
  lr: number;
  /** share of each batch drawn from older labelled images (replay), the rest from the new/changed ones */
  replayFraction: number;
  /** promote when main metric ≥ previous − epsilon (metrics are fractions: 0.01 = 1 AP point) */
  epsilon: number;
  /** train on horizontal flips too (each image then has two cache entries) */
  flips: boolean;
  seed: number;
}

export const INCREMENTAL_DEFAULTS: IncrementalSettings = {
  enabled: true,
  debounceMs: 1500,
  mode: 'auto',
  // A step costs ~1 s on 2 CPU cores whatever the batch (fixed per-kernel costs dominate at these sizes), and the
  // val evaluation ~2 s: 2 steps of 4 (half new images, half replay) keep an update near 5 s (bench/incremental)
  steps: 2,
  batchSize: 4,
  lr: 2e-4,
  replayFraction: 0.5,
  epsilon: 0.005,
  flips: true,
  seed: 1,
};

export const INCREMENTAL_SETTING = 'incremental';

export function resolveIncrementalSettings(project: unknown, over: Partial<IncrementalSettings> = {}): IncrementalSettings {
  const fromProject = project && typeof project === 'object' && !Array.isArray(project) ? (project as Partial<IncrementalSettings>) : {};
  const s = { ...INCREMENTAL_DEFAULTS, ...fromProject, ...over };
  const bad = (k: string, v: unknown, want: string) => {
    throw new Error(`incremental settings: ${k} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (typeof s.enabled !== 'boolean') bad('enabled', s.enabled, 'true or false');
  if (!(Number.isFinite(s.debounceMs) && s.debounceMs >= 0)) bad('debounceMs', s.debounceMs, 'a non-negative number of milliseconds');
  if (!['auto', 'fast', 'full'].includes(s.mode)) bad('mode', s.mode, "'auto', 'fast' or 'full'");
  if (!(Number.isInteger(s.steps) && s.steps > 0 && s.steps <= 10000)) bad('steps', s.steps, 'an integer from 1 to 10000');
  if (!(Number.isInteger(s.batchSize) && s.batchSize > 0 && s.batchSize <= 64)) bad('batchSize', s.batchSize, 'an integer from 1 to 64');
  if (!(s.lr > 0 && s.lr < 1)) bad('lr', s.lr, 'a learning rate in (0, 1)');
  if (!(s.replayFraction >= 0 && s.replayFraction < 1)) bad('replayFraction', s.replayFraction, 'a fraction in [0, 1)');
  if (!(s.epsilon >= 0 && s.epsilon <= 1)) bad('epsilon', s.epsilon, 'a fraction in [0, 1]');
  if (typeof s.flips !== 'boolean') bad('flips', s.flips, 'true or false');
  if (!Number.isFinite(s.seed)) bad('seed', s.seed, 'a number');
  return s;
}
