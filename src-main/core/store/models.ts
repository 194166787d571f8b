// Model versions and training runs: what the trainer records so that every side-net can say which dataset
// revision it learned from, and its run log can be replayed in the UI.
import type { Statements } from './db';

export interface ModelVersion {
  id: number;
  name: string;
  /** 'detect' | 'segment' | … — one active model per task */
  task: string;
  config: unknown;
  metrics: Record<string, unknown>;
  datasetRevision: number;
  /** paths relative to the project dir */
  files: string[];
  parentId: number | null;
  active: boolean;
  createdAt: number;
}

export interface NewModelVersion {
  name: string;
  task: string;
  config: unknown;
  metrics?: Record<string, unknown>;
  datasetRevision: number;
  files?: string[];
  parentId?: number | null;
  active?: boolean;
}

export type RunStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface TrainingRun {
  id: number;
  modelVersion: number | null;
  status: RunStatus;
  config: unknown;
  error: string | null;
  startedAt: number;
  endedAt: number | null;
}

export interface RunEvent {
  id: number;
  runId: number;
  t: number;
  kind: string;
  data: unknown;
}

interface ModelRow {
  id: number;
  name: string;
  task: string;
  config: string;
  metrics: string;
  dataset_revision: number;
  files: string;
  parent_id: number | null;
  active: number;
  created_at: number;
}
interface RunRow {
  id: number;
  model_version: number | null;
  status: string;
  config: string;
  error: string | null;
  started_at: number;
  ended_at: number | null;
}

const modelFromRow = (r: ModelRow): ModelVersion => ({
  id: r.id,
  name: r.name,
  task: r.task,
  config: JSON.parse(r.config),
  metrics: JSON.parse(r.metrics),
  datasetRevision: r.dataset_revision,
  files: JSON.parse(r.files),
  parentId: r.parent_id,
  active: r.active === 1,
  createdAt: r.created_at,
});
const runFromRow = (r: RunRow): TrainingRun => ({
  id: r.id,
  modelVersion: r.model_version,
  status: r.status as RunStatus,
  config: JSON.parse(r.config),
  error: r.error,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

export class ModelRegistry {
  constructor(private readonly st: Statements) {}

  add(m: NewModelVersion): ModelVersion {
    return this.st.db.transaction(() => {
      const { lastInsertRowid } = this.st
        .get(`INSERT INTO model_versions (name, task, config, metrics, dataset_revision, files, parent_id, active, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`)
        .run(m.name, m.task, JSON.stringify(m.config ?? null), JSON.stringify(m.metrics ?? {}), m.datasetRevision,
          JSON.stringify(m.files ?? []), m.parentId ?? null, Date.now());
      const id = Number(lastInsertRowid);
      if (m.active) this.setActive(id);
      return this.get(id)!;
    }).immediate();
  }

  get(id: number): ModelVersion | null {
    const r = this.st.get<[number], ModelRow>('SELECT * FROM model_versions WHERE id = ?').get(id);
    return r ? modelFromRow(r) : null;
  }

  list(task?: string): ModelVersion[] {
    const rows = task === undefined
      ? this.st.get<[], ModelRow>('SELECT * FROM model_versions ORDER BY id').all()
      : this.st.get<[string], ModelRow>('SELECT * FROM model_versions WHERE task = ? ORDER BY id').all(task);
    return rows.map(modelFromRow);
  }

  active(task: string): ModelVersion | null {
    const r = this.st.get<[string], ModelRow>('SELECT * FROM model_versions WHERE task = ? AND active = 1').get(task);
    return r ? modelFromRow(r) : null;
  }

  /** Makes `id` the one active model of its task (rolling back = activating an older version). */
  setActive(id: number): void {
    this.st.db.transaction(() => {
      const m = this.get(id);
      if (!m) throw new Error(`model version ${id} does not exist`);
      this.st.get('UPDATE model_versions SET active = 0 WHERE task = ? AND active = 1').run(m.task);
      this.st.get('UPDATE model_versions SET active = 1 WHERE id = ?').run(id);
    }).immediate();
  }

  /** Deletes an inactive version (its predictions cascade; training runs keep their log, link cleared). */
  delete(id: number): ModelVersion {
    const m = this.get(id);
    if (!m) throw new Error(`model version ${id} does not exist`);
    if (m.active) throw new Error(`model version ${id} is active: set another version active before deleting it`);
    this.st.get<[number]>('DELETE FROM model_versions WHERE id = ?').run(id);
    return m;
  }

  update(id: number, patch: { metrics?: Record<string, unknown>; files?: string[]; name?: string }): ModelVersion {
    const m = this.get(id);
    if (!m) throw new Error(`model version ${id} does not exist`);
    this.st.get('UPDATE model_versions SET name = ?, metrics = ?, files = ? WHERE id = ?').run(
      patch.name ?? m.name, JSON.stringify(patch.metrics ?? m.metrics), JSON.stringify(patch.files ?? m.files), id);
    return this.get(id)!;
  }

  addRun(r: { config: unknown; modelVersion?: number | null }): TrainingRun {
    const { lastInsertRowid } = this.st
      .get(`INSERT INTO training_runs (model_version, status, config, started_at) VALUES (?, 'running', ?, ?)`)
      .run(r.modelVersion ?? null, JSON.stringify(r.config ?? null), Date.now());
    return this.getRun(Number(lastInsertRowid))!;
  }

  getRun(id: number): TrainingRun | null {
    const r = this.st.get<[number], RunRow>('SELECT * FROM training_runs WHERE id = ?').get(id);
    return r ? runFromRow(r) : null;
  }

  listRuns(): TrainingRun[] {
    return this.st.get<[], RunRow>('SELECT * FROM training_runs ORDER BY id').all().map(runFromRow);
  }

  finishRun(id: number, end: { status: Exclude<RunStatus, 'running'>; error?: string; modelVersion?: number | null }): TrainingRun {
    const run = this.getRun(id);
    if (!run) throw new Error(`training run ${id} does not exist`);
    this.st.get('UPDATE training_runs SET status = ?, error = ?, model_version = ?, ended_at = ? WHERE id = ?').run(
      end.status, end.error ?? null, end.modelVersion === undefined ? run.modelVersion : end.modelVersion, Date.now(), id);
    return this.getRun(id)!;
  }

  appendEvent(runId: number, kind: string, data: unknown, t = Date.now()): number {
    const { lastInsertRowid } = this.st.get('INSERT INTO run_events (run_id, t, kind, data) VALUES (?, ?, ?, ?)')
      .run(runId, t, kind, JSON.stringify(data ?? null));
    return Number(lastInsertRowid);
  }

  /** Events of a run in order; `afterId` resumes a stream. */
  events(runId: number, afterId = 0): RunEvent[] {
    return this.st
      .get<[number, number], { id: number; run_id: number; t: number; kind: string; data: string }>(
        'SELECT * FROM run_events WHERE run_id = ? AND id > ? ORDER BY id')
      .all(runId, afterId)
      .map((r) => ({ id: r.id, runId: r.run_id, t: r.t, kind: r.kind, data: JSON.parse(r.data) }));
  }
}
