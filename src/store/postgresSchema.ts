// The PostgreSQL store's schema: the SQLite store's tables (src/store/schema.ts, schema 2) with the same columns, so
// a copy between them is row for row, under a `ptalign_` prefix (a database shared with other software keeps its own
// names), plus the leases of study cells. JSON columns are `text`, not `jsonb`: jsonb reorders keys and rewrites
// numbers, and the record must read back byte for byte.
// Its own version numbering (PG_SCHEMA_VERSION, row `schema_version` of ptalign_meta); migrations only add.

export const PG_SCHEMA_VERSION = 1;

/** One advisory lock key for creating or migrating the schema: N workers starting at once do it one at a time. */
export const SCHEMA_LOCK = 0x70_74_61_6c; // "ptal"

export const PG_TABLES = `
CREATE TABLE IF NOT EXISTS ptalign_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ptalign_runs (
  id         text PRIMARY KEY,
  cell       text,
  study      text,
  model      text NOT NULL,
  protocol   text NOT NULL,
  target     text NOT NULL,
  settings   text NOT NULL,
  status     text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  error      text,
  created    text NOT NULL,
  updated    text NOT NULL,
  metrics    text,
  verdict    text,
  extra      text,
  run_fields text
);
CREATE INDEX IF NOT EXISTS ptalign_runs_cell ON ptalign_runs (cell, status);
CREATE TABLE IF NOT EXISTS ptalign_steps (
  run_id    text NOT NULL REFERENCES ptalign_runs (id) ON DELETE CASCADE,
  run_index integer NOT NULL,
  seed      bigint NOT NULL,
  t         integer NOT NULL,
  ptoken    text NOT NULL,
  leak      double precision NOT NULL,
  sample    text,
  raw       text,
  unknown   double precision,
  extra     text,
  PRIMARY KEY (run_id, run_index, t)
);
CREATE TABLE IF NOT EXISTS ptalign_run_parts (
  run_id    text NOT NULL REFERENCES ptalign_runs (id) ON DELETE CASCADE,
  run_index integer NOT NULL,
  seed      bigint NOT NULL,
  steps     integer NOT NULL,
  fields    text,
  PRIMARY KEY (run_id, run_index)
);
CREATE TABLE IF NOT EXISTS ptalign_task_results (
  id        text PRIMARY KEY,
  task      text NOT NULL,
  model     text NOT NULL,
  created   text NOT NULL,
  result    text NOT NULL
);
CREATE TABLE IF NOT EXISTS ptalign_leases (
  cell      text PRIMARY KEY,
  owner     text,
  expires   timestamptz
);
`;
