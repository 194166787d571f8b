// Schema 3: per-shape flags and custom attributes, per-class attribute definitions, image-level tags.
// The crowd flag is the existing `annotations.iscrowd` column (COCO imports already fill it).
import type { Migration } from './types';

export const m003: Migration = {
  version: 3,
  name: 'attributes and tags',
  up(db) {
    db.exec(`
      ALTER TABLE annotations ADD COLUMN occluded  INTEGER NOT NULL DEFAULT 0 CHECK (occluded IN (0, 1));
      ALTER TABLE annotations ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1));
      ALTER TABLE annotations ADD COLUMN difficult INTEGER NOT NULL DEFAULT 0 CHECK (difficult IN (0, 1));
      -- JSON object {name: value}; NULL = none
      ALTER TABLE annotations ADD COLUMN attributes TEXT;

      -- JSON array of attribute definitions (contract AttributeDef); NULL = none
      ALTER TABLE classes ADD COLUMN attributes TEXT;

      CREATE TABLE image_tags (
        image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
        tag      TEXT NOT NULL,
        PRIMARY KEY (image_id, tag)
      ) WITHOUT ROWID;
      CREATE INDEX image_tags_tag ON image_tags (tag, image_id);
    `);
  },
};
