// The SQLite run store DIR/ptalign.db (better-sqlite3, WAL). Every step is written as soon as it is computed, so a
// crash loses at most the step in flight; (run_id, run_index, t) is the primary key of a step, so no step is ever
// stored twice (a resumed run that recomputes a step overwrites it with the same values). docs/report.md describes
// the schema.

import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { InputError } from "../errors.ts";
import { DamagedStoreError, ensureWritableDir, isDamaged } from "./access.ts";
import type { Metrics, ProtocolName, Result, Run, Step, Target, Verdict } from "../types.ts";

export const DB_FILE = "ptalign.db";
const SCHEMA_VERSION = 1;

export type RunStatus = "running" | "done" | "failed";

/** One row of the runs table: a model × target × protocol × settings measurement (all its seeds' runs). */
export interface RunRecord {
  id: string;
  /** Hash of the settings that define the measurement (see study/matrix.ts); a study resumes by it. */
  cell: string | null;
  /** The study file the run came from (null for `ptalign run --model ...`). */
  study: string | null;
  model: string;
  protocol: ProtocolName;
  target: Target;
  settings: Record<string, unknown>;
  status: RunStatus;
  error: string | null;
  created: string;
  updated: string;
  metrics: Metrics | null;
  verdict: Verdict | null;
}

const SCHEMA = `
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

interface RunRow {
  id: string;
  cell: string | null;
  study: string | null;
  model: string;
  protocol: string;
  target: string;
  settings: string;
  status: string;
  error: string | null;
  created: string;
  updated: string;
  metrics: string | null;
  verdict: string | null;
}

interface StepRow {
  run_index: number;
  seed: number;
  t: number;
  ptoken: string;
  leak: number;
  sample: string | null;
  raw: string | null;
  unknown: number | null;
}

const now = () => new Date().toISOString();

export class Store {
  readonly db: Database.Database;
  private readonly insertStep: Database.Statement;

  /** A private copy this store reads (see openExisting); removed on close. */
  private copyDir: string | undefined;

  private constructor(readonly path: string, readonly: boolean, dbPath = path) {
    this.db = new Database(dbPath, { readonly, fileMustExist: readonly, timeout: 10_000 });
    if (!readonly) {
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("foreign_keys = ON");
      this.db.exec(SCHEMA);
      this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    }
    this.insertStep = readonly
      ? this.db.prepare("SELECT 1")
      : this.db.prepare(
          `INSERT INTO steps (run_id, run_index, seed, t, ptoken, leak, sample, raw, unknown) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, run_index, t) DO UPDATE SET seed = excluded.seed, ptoken = excluded.ptoken, leak = excluded.leak,
             sample = excluded.sample, raw = excluded.raw, unknown = excluded.unknown`,
        );
  }

  /** Opens (creating if needed) DIR/ptalign.db for writing; a directory that cannot be written, or a damaged store, is an InputError. */
  static open(dir: string): Store {
    ensureWritableDir(dir);
    const file = join(dir, DB_FILE);
    try {
      return new Store(file, false);
    } catch (err) {
      if (isDamaged(err)) throw new DamagedStoreError(file, err);
      const c = (err as { code?: string }).code;
      if (c === "SQLITE_READONLY" || c === "SQLITE_CANTOPEN" || c?.startsWith("SQLITE_READONLY_")) {
        throw new InputError(`${file} cannot be written (${c}): choose another --out, or copy the results directory somewhere you can write`);
      }
      throw err;
    }
  }

  /**
   * Opens DIR/ptalign.db for reading, or returns undefined when the directory has no store yet. A reader never
   * writes: where SQLite cannot read a WAL database in place without write access (a read-only copy, another user's
   * results), it reads a private copy of the database and its WAL instead. A damaged file is a DamagedStoreError.
   */
  static openExisting(dir: string): Store | undefined {
    const file = join(dir, DB_FILE);
    if (!existsSync(file)) return undefined;
    let store: Store | undefined;
    try {
      store = new Store(file, true);
      store.probe();
      return store;
    } catch (err) {
      store?.close();
      if (isDamaged(err)) throw new DamagedStoreError(file, err);
      const c = (err as { code?: string }).code ?? "";
      if (c === "SQLITE_CANTOPEN" && !existsSync(file)) return undefined;
      if (!c.startsWith("SQLITE_READONLY") && !c.startsWith("SQLITE_CANTOPEN")) throw err;
    }
    return Store.readCopy(file);
  }

  private static readCopy(file: string): Store {
    const copyDir = mkdtempSync(join(tmpdir(), "ptalign-read-"));
    try {
      for (const suffix of ["", "-wal"]) if (existsSync(file + suffix)) copyFileSync(file + suffix, join(copyDir, DB_FILE + suffix));
      const store = new Store(file, true, join(copyDir, DB_FILE));
      store.copyDir = copyDir;
      store.probe();
      return store;
    } catch (err) {
      rmSync(copyDir, { recursive: true, force: true });
      if (isDamaged(err)) throw new DamagedStoreError(file, err);
      const c = (err as { code?: string }).code;
      if (c === "EACCES" || c === "EPERM") throw new InputError(`cannot read ${file} (${c}): ask its owner for read access, or copy the results directory`);
      throw err;
    }
  }

  /** Reads the schema: a junk header shows here (a damaged page deeper in shows when it is read; readers catch it). */
  private probe(): void {
    this.db.prepare("SELECT count(*) FROM sqlite_master").get();
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.copyDir) rmSync(this.copyDir, { recursive: true, force: true });
  }

  /** Creates the run row (status running) if it does not exist yet; an existing row is marked running again. */
  beginRun(r: { id: string; cell?: string | null; study?: string | null; model: string; protocol: ProtocolName; target: Target; settings: Record<string, unknown> }): void {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO runs (id, cell, study, model, protocol, target, settings, status, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = 'running', error = NULL, updated = excluded.updated`,
      )
      .run(r.id, r.cell ?? null, r.study ?? null, r.model, r.protocol, JSON.stringify(r.target), JSON.stringify(r.settings), t, t);
  }

  /** Writes one step now (its own transaction; WAL makes it durable at the next checkpoint or on close). */
  addStep(runId: string, runIndex: number, seed: number, step: Step): void {
    this.insertStep.run(runId, runIndex, seed, step.t, JSON.stringify(step.ptoken), step.leak, step.sample, step.raw ?? null, step.unknown ?? null);
  }

  /** Marks a run done with its metrics and verdict (and the settings as finally known, e.g. the rendered prompt). */
  finishRun(id: string, result: Pick<Result, "metrics" | "verdict" | "settings">): void {
    this.db
      .prepare("UPDATE runs SET status = 'done', error = NULL, metrics = ?, verdict = ?, settings = COALESCE(?, settings), updated = ? WHERE id = ?")
      .run(JSON.stringify(result.metrics), JSON.stringify(result.verdict), result.settings ? JSON.stringify(result.settings) : null, now(), id);
  }

  failRun(id: string, error: string): void {
    this.db.prepare("UPDATE runs SET status = 'failed', error = ?, updated = ? WHERE id = ?").run(error, now(), id);
  }

  /**
   * Records that run index r of a measurement is complete with `steps` steps (steps past that, left by an earlier
   * attempt, are removed in the same transaction). A resumed study skips the runs recorded here.
   */
  finishPart(id: string, runIndex: number, seed: number, steps: number): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM steps WHERE run_id = ? AND run_index = ? AND t >= ?").run(id, runIndex, steps);
      this.db.prepare("INSERT OR REPLACE INTO run_parts (run_id, run_index, seed, steps) VALUES (?, ?, ?, ?)").run(id, runIndex, seed, steps);
    })();
  }

  /** Run indices of a measurement recorded complete by finishPart. */
  finishedParts(id: string): Set<number> {
    return new Set((this.db.prepare("SELECT run_index FROM run_parts WHERE run_id = ?").all(id) as { run_index: number }[]).map((r) => r.run_index));
  }

  /** Deletes the steps of run index ≥ from (a run that is recomputed from its start). */
  dropSteps(id: string, fromRunIndex: number): void {
    this.db.prepare("DELETE FROM steps WHERE run_id = ? AND run_index >= ?").run(id, fromRunIndex);
  }

  /** A whole finished result in one transaction (runs saved without step-by-step recording, e.g. `demo`). */
  putResult(result: Result & { id: string }, extra: { cell?: string | null; study?: string | null } = {}): void {
    this.db.transaction(() => {
      this.beginRun({ id: result.id, cell: extra.cell, study: extra.study, model: result.model, protocol: result.protocol, target: result.target, settings: result.settings ?? {} });
      this.dropSteps(result.id, result.runs.length);
      result.runs.forEach((run, r) => run.steps.forEach((s) => this.addStep(result.id, r, run.seed, s)));
      if (result.settings?.partial) this.failRun(result.id, "stopped early");
      else this.finishRun(result.id, result);
    })();
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    return row && toRecord(row);
  }

  /** The most recent run of a study cell. */
  findCell(cell: string): RunRecord | undefined {
    const row = this.db.prepare("SELECT * FROM runs WHERE cell = ? ORDER BY created DESC, id DESC LIMIT 1").get(cell) as RunRow | undefined;
    return row && toRecord(row);
  }

  listRuns(): RunRecord[] {
    return (this.db.prepare("SELECT * FROM runs ORDER BY created, id").all() as RunRow[]).map(toRecord);
  }

  /** The stored runs of a measurement, in run order, each with its steps in step order. */
  runsOf(id: string): Run[] {
    const rows = this.db.prepare("SELECT run_index, seed, t, ptoken, leak, sample, raw, unknown FROM steps WHERE run_id = ? ORDER BY run_index, t").all(id) as StepRow[];
    const runs: Run[] = [];
    for (const row of rows) {
      while (runs.length <= row.run_index) runs.push({ seed: row.seed, steps: [] });
      const run = runs[row.run_index]!;
      run.seed = row.seed;
      const step: Step = { t: row.t, ptoken: JSON.parse(row.ptoken) as number[], leak: row.leak, sample: row.sample };
      if (row.raw !== null) step.raw = row.raw;
      if (row.unknown !== null) step.unknown = row.unknown;
      run.steps.push(step);
    }
    return runs;
  }

  /** Number of stored steps per run index. */
  stepCounts(id: string): number[] {
    const rows = this.db.prepare("SELECT run_index, count(*) AS n FROM steps WHERE run_id = ? GROUP BY run_index ORDER BY run_index").all(id) as { run_index: number; n: number }[];
    const out: number[] = [];
    for (const r of rows) {
      while (out.length < r.run_index) out.push(0);
      out[r.run_index] = r.n;
    }
    return out;
  }

  /**
   * Claims a study cell for this process, so that two studies started at once do not both measure it: true when the
   * cell was free, already ours, or held by a process that is gone (same host, pid not alive); false when another
   * live process holds it. One IMMEDIATE transaction, so two claimers cannot both win.
   */
  claimCell(cell: string): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT pid, host FROM claims WHERE cell = ?").get(cell) as { pid: number; host: string } | undefined;
      if (row && !(row.pid === process.pid && row.host === hostname()) && ownerAlive(row)) return false;
      this.db.prepare("INSERT OR REPLACE INTO claims (cell, pid, host, started) VALUES (?, ?, ?, ?)").run(cell, process.pid, hostname(), now());
      return true;
    }).immediate();
  }

  /** Gives a claimed cell back (finished, failed or abandoned). */
  releaseCell(cell: string): void {
    this.db.prepare("DELETE FROM claims WHERE cell = ? AND pid = ? AND host = ?").run(cell, process.pid, hostname());
  }

  /** A downstream task's result JSON (codegen, recommend), kept whole: its own shape is documented in docs/tasks.md. */
  putTaskResult(r: { id: string; task: string; model: string }): void {
    this.db
      .prepare("INSERT INTO task_results (id, task, model, created, result) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET result = excluded.result")
      .run(r.id, r.task, r.model, now(), JSON.stringify(r));
  }

  listTaskResults(): { id: string; task: string; model: string; created: string }[] {
    if (!this.hasTable("task_results")) return [];
    return this.db.prepare("SELECT id, task, model, created FROM task_results ORDER BY created, id").all() as { id: string; task: string; model: string; created: string }[];
  }

  /** A store opened read-only may predate a table. */
  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  totalSteps(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n;
  }

  /** Changes whenever a step or a run row changes: what `view` polls to know when to redraw. */
  version(): string {
    const r = this.db.prepare("SELECT count(*) AS n, max(updated) AS u FROM runs").get() as { n: number; u: string | null };
    return `${r.n}:${r.u ?? ""}:${this.totalSteps()}:${this.listTaskResults().length}`;
  }
}

/** Whether a claim's owner still runs: checked by pid on this host; a claim from another host is trusted. */
function ownerAlive(claim: { pid: number; host: string }): boolean {
  if (claim.host !== hostname()) return true;
  try {
    process.kill(claim.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    cell: row.cell,
    study: row.study,
    model: row.model,
    protocol: row.protocol as ProtocolName,
    target: JSON.parse(row.target) as Target,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    status: row.status as RunStatus,
    error: row.error,
    created: row.created,
    updated: row.updated,
    metrics: row.metrics ? (JSON.parse(row.metrics) as Metrics) : null,
    verdict: row.verdict ? (JSON.parse(row.verdict) as Verdict) : null,
  };
}

/** The result JSON of a stored run (its steps read back from the store). */
export function recordToResult(store: Store, rec: RunRecord): Result & { id: string; status: RunStatus; error: string | null } {
  return {
    version: 1,
    model: rec.model,
    protocol: rec.protocol,
    target: rec.target,
    runs: store.runsOf(rec.id),
    metrics: rec.metrics as Metrics,
    verdict: rec.verdict as Verdict,
    settings: rec.settings,
    id: rec.id,
    status: rec.status,
    error: rec.error,
  };
}
