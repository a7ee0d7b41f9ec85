// The SQLite store's schema and its migrations. Version 1 (ptalign 0.1.0) kept ptoken, leak, sample, raw and unknown
// of a step; version 2 keeps every field: a step's other fields go into steps.extra (JSON), a result's fields
// outside the columns into runs.extra, and each run's own fields (seed, stopped) into runs.run_fields (and, for a
// study's run recorded complete, into run_parts.fields).
// Migrations only add: a store migrated to version 2 still reads in ptalign 0.1.0 (which ignores the new columns).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import type { Result } from "../types.ts";
import { resultFields, runFields, stepExtra } from "./fields.ts";

export const SCHEMA_VERSION = 2;

/** Schema 1's tables (CREATE IF NOT EXISTS: also fills in a table a very early store lacks). */
const TABLES_V1 = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id        TEXT PRIMARY KEY,
  cell      TEXT,
  study     TEXT,
  model     TEXT NOT NULL,
  protocol  TEXT NOT NULL,
  target    TEXT NOT NULL,
  settings  TEXT NOT NULL,
  status    TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  error     TEXT,
  created   TEXT NOT NULL,
  updated   TEXT NOT NULL,
  metrics   TEXT,
  verdict   TEXT
);
CREATE INDEX IF NOT EXISTS runs_cell ON runs (cell);
CREATE TABLE IF NOT EXISTS steps (
  run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  run_index INTEGER NOT NULL,
  seed      INTEGER NOT NULL,
  t         INTEGER NOT NULL,
  ptoken    TEXT NOT NULL,
  leak      REAL NOT NULL,
  sample    TEXT,
  raw       TEXT,
  unknown   REAL,
  PRIMARY KEY (run_id, run_index, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_results (
  id        TEXT PRIMARY KEY,
  task      TEXT NOT NULL,
  model     TEXT NOT NULL,
  created   TEXT NOT NULL,
  result    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
  cell      TEXT PRIMARY KEY,
  pid       INTEGER NOT NULL,
  host      TEXT NOT NULL,
  started   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_parts (
  run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  run_index INTEGER NOT NULL,
  seed      INTEGER NOT NULL,
  steps     INTEGER NOT NULL,
  PRIMARY KEY (run_id, run_index)
) WITHOUT ROWID;
`;

/**
 * Study cells' leases (src/store/types.ts `Lease`): coordination between workers, not part of the record, so the
 * table is created by any writer without a schema version of its own (an older ptalign ignores it; its PID-based
 * `claims` table is no longer used). `expires` is milliseconds since the epoch on this machine's clock (every
 * writer of a SQLite file runs on the machine that holds it).
 */
export const LEASES_TABLE = `
CREATE TABLE IF NOT EXISTS leases (
  cell      TEXT PRIMARY KEY,
  owner     TEXT NOT NULL,
  expires   INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Columns schema 2 adds to schema 1 (table, column, type). */
const ADDED_V2: [string, string, string][] = [
  ["steps", "extra", "TEXT"],
  ["runs", "extra", "TEXT"],
  ["runs", "run_fields", "TEXT"],
  ["run_parts", "fields", "TEXT"],
];

/** The store's schema version: 0 for an empty database, 1 for a store without the key (never written so). */
export function schemaVersion(db: Database.Database): number {
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
  if (!tables.has("meta")) return tables.has("runs") ? 1 : 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row ? Number(row.value) : tables.has("runs") ? 1 : 0;
}

const setVersion = (db: Database.Database) => db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));

export function createSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(TABLES_V1);
    addColumns(db);
    setVersion(db);
  }).immediate();
}

function addColumns(db: Database.Database): void {
  for (const [table, column, type] of ADDED_V2) {
    const has = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
    if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/**
 * Migrates a store of an older schema to the current one, in one transaction. 1 → 2: the new columns, filled from
 * the result JSON files of DIR/runs (runs/<id>.json, or <id>.partial.json), which hold every field schema 1 dropped
 * (value, outside, entropy_full, entropy_full_bounds, a run's `stopped`). A measurement without a file (one that
 * never finished) keeps what schema 1 stored.
 */
export function migrate(db: Database.Database, from: number, dir: string): void {
  db.transaction(() => {
    db.exec(TABLES_V1);
    addColumns(db);
    if (from < 2) fillFromFiles(db, dir);
    setVersion(db);
  }).immediate();
}

function fillFromFiles(db: Database.Database, dir: string): void {
  const updateStep = db.prepare("UPDATE steps SET extra = ? WHERE run_id = ? AND run_index = ? AND t = ?");
  const updateRun = db.prepare("UPDATE runs SET extra = ?, run_fields = ? WHERE id = ?");
  for (const { id } of db.prepare("SELECT id FROM runs").all() as { id: string }[]) {
    const result = readResultFile(dir, id);
    if (!result) continue;
    result.runs.forEach((run, r) => run.steps.forEach((step) => {
      const extra = stepExtra(step);
      if (extra !== null) updateStep.run(extra, id, r, step.t);
    }));
    updateRun.run(resultFields(result), runFields(result.runs), id);
  }
}

function readResultFile(dir: string, id: string): Result | undefined {
  for (const name of [`${id}.json`, `${id}.partial.json`]) {
    const file = join(dir, "runs", name);
    if (!existsSync(file)) continue;
    try {
      const r = JSON.parse(readFileSync(file, "utf8")) as Result;
      if (Array.isArray(r.runs)) return r;
    } catch {
      /* not a result file: the store's own data stays */
    }
  }
  return undefined;
}
