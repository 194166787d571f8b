import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb } from '../../../src-main/core/store/db';
import { migrate, NewerSchemaError } from '../../../src-main/core/store/migrate';
import { m001 } from '../../../src-main/core/store/migrations/001-initial';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src-main/core/store/migrations/index';
import { createProject, openProject } from '../../../src-main/core/store/project';
import { tempDir } from './helpers';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir()));
afterEach(() => t.cleanup());

const tables = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);

describe('project database', () => {
  it('creates the folder layout and a database at the current schema with WAL, foreign keys and synchronous=NORMAL', () => {
    const dir = join(t.dir, 'new project');
    const store = createProject(dir, { name: 'Birds' });
    expect(store.name).toBe('Birds');
    for (const d of ['media', 'models', 'cache/thumbs', 'cache/features']) expect(existsSync(join(dir, d))).toBe(true);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(tables(store.db)).toEqual(expect.arrayContaining(['images', 'classes', 'annotations', 'predictions', 'model_versions',
      'training_runs', 'run_events', 'feature_cache', 'meta', 'revisions']));
    const idx = (store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index'`).all() as { name: string }[]).map((r) => r.name);
    expect(idx).toEqual(expect.arrayContaining(['annotations_image', 'annotations_class']));
    store.close();
    expect(() => createProject(dir)).toThrow(/already holds a project/);
  });

  it('upgrades a schema-1 project in place and keeps its data', () => {
    const dir = join(t.dir, 'old');
    mkdirSync(dir);
    const db = openDb(join(dir, 'project.sqlite'));
    migrate(db, [m001]);
    db.exec(`INSERT INTO meta (key, value) VALUES ('name', 'old one');
      INSERT INTO images (id, hash, path, file_name, format, bytes, width, height, added_at) VALUES (1, 'abc', 'media/a.jpg', 'a.jpg', 'jpeg', 1, 10, 10, 1);
      INSERT INTO classes (id, name, color, ord) VALUES (1, 'cat', '#ff0000', 0);
      INSERT INTO annotations (id, image_id, class_id, kind, geometry, created_at, updated_at) VALUES ('a1', 1, 1, 'box', '{"x":1,"y":2,"w":3,"h":4}', 5, 6);`);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).not.toContain('model_versions');
    db.close();

    const store = openProject(dir);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(tables(store.db)).toContain('model_versions');
    expect(store.name).toBe('old one');
    expect(store.annotationsOf(1)).toEqual([
      { id: 'a1', imageId: 1, classId: 1, geometry: { kind: 'box', x: 1, y: 2, w: 3, h: 4 }, source: 'human', score: null, modelVersion: null, createdAt: 5, updatedAt: 6 },
    ]);
    store.close();
  });

  it('rolls a failed upgrade back completely: the project stays at its old version', () => {
    const db = openDb(join(t.dir, 'x.sqlite'));
    migrate(db, [m001]);
    const bad = { version: SCHEMA_VERSION + 1, name: 'broken', up: (d: Database.Database) => { d.exec('CREATE TABLE half_done (x)'); throw new Error('boom'); } };
    expect(() => migrate(db, [...MIGRATIONS, bad])).toThrow(new RegExp(`schema ${SCHEMA_VERSION + 1} \\(broken\\) failed: boom`));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tables(db)).not.toContain('half_done');
    expect(tables(db)).not.toContain('model_versions');
    db.close();
  });

  it('refuses a project written by a newer app, with the versions in the message, and leaves it untouched', () => {
    const dir = join(t.dir, 'future');
    createProject(dir).close();
    const db = new Database(join(dir, 'project.sqlite'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    db.close();
    expect(() => openProject(dir)).toThrow(NewerSchemaError);
    expect(() => openProject(dir)).toThrow(
      `this project was written by a newer HST Studio (schema ${SCHEMA_VERSION + 7} > ${SCHEMA_VERSION}); update the app`);
    const again = new Database(join(dir, 'project.sqlite'));
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 7);
    again.close();
  });

  it('says clearly when a folder is not a project or its database is not SQLite', () => {
    expect(() => openProject(t.dir)).toThrow(/is not an HST Studio project \(no project.sqlite/);
    writeFileSync(join(t.dir, 'project.sqlite'), 'this is not a database at all, just some text padding'.repeat(40));
    expect(() => openProject(t.dir)).toThrow(/project\.sqlite/);
  });
});
