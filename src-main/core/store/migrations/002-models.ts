// Schema 2: what training produces — model versions, training runs and their events, predictions, and the
// index of cached backbone features.
import type { Migration } from './types';

export const m002: Migration = {
  version: 2,
  name: 'models',
  up(db) {
    db.exec(`
      CREATE TABLE model_versions (
        id               INTEGER PRIMARY KEY,
        name             TEXT NOT NULL,
        task             TEXT NOT NULL,
        config           TEXT NOT NULL,
        metrics          TEXT NOT NULL DEFAULT '{}',
        dataset_revision INTEGER NOT NULL,
        -- paths relative to the project dir (models/<id>/…)
        files            TEXT NOT NULL DEFAULT '[]',
        parent_id        INTEGER REFERENCES model_versions (id) ON DELETE SET NULL,
        active           INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
        created_at       INTEGER NOT NULL
      );
      -- at most one active model per task
      CREATE UNIQUE INDEX model_versions_active ON model_versions (task) WHERE active = 1;

      CREATE TABLE training_runs (
        id            INTEGER PRIMARY KEY,
        model_version INTEGER REFERENCES model_versions (id) ON DELETE SET NULL,
        status        TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
        config        TEXT NOT NULL,
        error         TEXT,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER
      );

      CREATE TABLE run_events (
        id     INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES training_runs (id) ON DELETE CASCADE,
        t      INTEGER NOT NULL,
        kind   TEXT NOT NULL,
        data   TEXT NOT NULL
      );
      CREATE INDEX run_events_run ON run_events (run_id, id);

      CREATE TABLE predictions (
        id            INTEGER PRIMARY KEY,
        image_id      INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
        model_version INTEGER NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
        class_id      INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        kind          TEXT NOT NULL CHECK (kind IN ('box', 'polygon', 'mask')),
        geometry      TEXT NOT NULL,
        score         REAL NOT NULL,
        created_at    INTEGER NOT NULL
      );
      CREATE INDEX predictions_image ON predictions (image_id, model_version);
      CREATE INDEX predictions_model ON predictions (model_version);

      CREATE TABLE feature_cache (
        image_hash     TEXT NOT NULL,
        backbone       TEXT NOT NULL,
        size           INTEGER NOT NULL,
        params_version TEXT NOT NULL,
        -- relative to the project dir (cache/features/…)
        path           TEXT NOT NULL,
        bytes          INTEGER NOT NULL,
        last_used      INTEGER NOT NULL,
        PRIMARY KEY (image_hash, backbone, size, params_version)
      );
      CREATE INDEX feature_cache_lru ON feature_cache (last_used);
    `);
  },
};
