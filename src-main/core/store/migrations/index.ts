// Every schema step in order. Add a file per step (003-….ts) and list it here; never edit a shipped step.
import { m001 } from './001-initial';
import { m002 } from './002-models';
import { m003 } from './003-attributes-tags';
import type { Migration } from './types';

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003];
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
export type { Migration };
