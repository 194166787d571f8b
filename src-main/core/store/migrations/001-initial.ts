// Schema 1: the labelling core — images, classes, annotations, the revision counter and settings.
import type { Migration } from './types';

export const m001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      CREATE TABLE images (
        id          INTEGER PRIMARY KEY,
        hash        TEXT NOT NULL UNIQUE,
        -- relative to the project dir when copied into media/, absolute when linked in place
        path        TEXT NOT NULL,
        linked      INTEGER NOT NULL DEFAULT 0 CHECK (linked IN (0, 1)),
        file_name   TEXT NOT NULL,
        format      TEXT NOT NULL,
        bytes       INTEGER NOT NULL,
        -- dimensions after EXIF orientation: the frame every geometry is expressed in
        width       INTEGER NOT NULL CHECK (width > 0),
        height      INTEGER NOT NULL CHECK (height > 0),
        orientation INTEGER NOT NULL DEFAULT 1 CHECK (orientation BETWEEN 1 AND 8),
        split       TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'val', 'test')),
        status      TEXT NOT NULL DEFAULT 'unlabeled' CHECK (status IN ('unlabeled', 'labeled', 'reviewed')),
        added_at    INTEGER NOT NULL
      );
      CREATE INDEX images_status ON images (status);
      CREATE INDEX images_split ON images (split);
      CREATE INDEX images_file_name ON images (file_name);

      CREATE TABLE classes (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL UNIQUE,
        color     TEXT NOT NULL,
        hotkey    TEXT,
        ord       INTEGER NOT NULL,
        -- id the class had in an imported dataset (COCO category id), kept for round trips
        source_id INTEGER
      );

      CREATE TABLE annotations (
        id            TEXT PRIMARY KEY,
        image_id      INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
        -- no cascade: deleting a class must delete its annotations explicitly, in a changeset that can be undone
        class_id      INTEGER NOT NULL REFERENCES classes (id),
        kind          TEXT NOT NULL CHECK (kind IN ('box', 'polygon', 'mask')),
        geometry      TEXT NOT NULL,
        source        TEXT NOT NULL DEFAULT 'human' CHECK (source IN ('human', 'model')),
        score         REAL,
        -- provenance only (the model may later be deleted), hence no foreign key
        model_version INTEGER,
        iscrowd       INTEGER NOT NULL DEFAULT 0,
        source_id     TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX annotations_image ON annotations (image_id);
      CREATE INDEX annotations_class ON annotations (class_id);

      -- one row per applied changeset: what a dataset revision number means
      CREATE TABLE revisions (
        revision   INTEGER PRIMARY KEY,
        label      TEXT,
        applied_at INTEGER NOT NULL,
        created    INTEGER NOT NULL,
        updated    INTEGER NOT NULL,
        deleted    INTEGER NOT NULL
      );

      INSERT INTO meta (key, value) VALUES ('revision', '0');
    `);
  },
};
