// The SQLite store DIR/ptalign.db (better-sqlite3, WAL), the embedded default ResultStore. Every step is written as
// soon as it is computed, so a crash loses at most the step in flight; (run_id, run_index, t) is the primary key of
// a step, so no step is ever stored twice (a resumed run that recomputes a step overwrites it with the same values).
// Schema and migrations: src/store/schema.ts; docs/report.md describes the tables.

import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { InputError } from "../errors.ts";
import { DamagedStoreError, ensureWritableDir, isDamaged } from "./access.ts";
import { createSchema, migrate, schemaVersion, SCHEMA_VERSION } from "./schema.ts";
import { readRecordedSettings } from "../config/recorded.ts";
import { resultFields, runFields, splitStep, joinStep, type StepColumns } from "./fields.ts";
import type { BeginRun, ResultStore, RunRecord, RunStatus, StoredResult, TaskListing, TaskRecord } from "./types.ts";
import type { Metrics, ProtocolName, Result, Run, Step, Target, Verdict } from "../types.ts";

export const DB_FILE = "ptalign.db";

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
  extra: string | null;
  run_fields: string | null;
}

/** A steps row: the step's columns (fields.ts) and the run it belongs to. */
interface StepRow extends StepColumns {
  run_index: number;
  seed: number;
}

const now = () => new Date().toISOString();

export class SqliteStore implements ResultStore {
  private readonly db: Database.Database;
  private readonly insertStep: Database.Statement;
  /** A private copy this store reads (see openExisting); removed on close. */
  private copyDir: string | undefined;

  private constructor(readonly location: string, db: Database.Database) {
    this.db = db;
    this.insertStep = db.readonly
      ? db.prepare("SELECT 1")
      : db.prepare(
          `INSERT INTO steps (run_id, run_index, seed, t, ptoken, leak, sample, raw, unknown, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, run_index, t) DO UPDATE SET seed = excluded.seed, ptoken = excluded.ptoken, leak = excluded.leak,
             sample = excluded.sample, raw = excluded.raw, unknown = excluded.unknown, extra = excluded.extra`,
        );
  }

  /**
   * Opens (creating if needed) DIR/ptalign.db for writing, migrating an older schema in place (the result JSON files
   * of DIR/runs fill what schema 1 did not keep). A directory that cannot be written, a damaged store, or a store
   * written by a newer ptalign is an InputError.
   */
  static open(dir: string): SqliteStore {
    ensureWritableDir(dir);
    const file = join(dir, DB_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: 10_000 });
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      prepareSchema(db, dir, file);
      return new SqliteStore(file, db);
    } catch (err) {
      if (db?.open) db.close();
      if (err instanceof InputError) throw err;
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
   * results), or the store has an older schema that must be migrated first, it reads a private copy of the database
   * and its WAL instead (migrated there). A damaged file is a DamagedStoreError.
   */
  static openExisting(dir: string): SqliteStore | undefined {
    const file = join(dir, DB_FILE);
    if (!existsSync(file)) return undefined;
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
      const version = schemaVersion(db); // reads the schema: a junk header shows here
      if (version > SCHEMA_VERSION) throw newerSchema(file, version);
      if (version === SCHEMA_VERSION) return new SqliteStore(file, db);
      db.close(); // an older schema: migrated in a private copy, never in place
    } catch (err) {
      if (db?.open) db.close();
      if (err instanceof InputError) throw err;
      if (isDamaged(err)) throw new DamagedStoreError(file, err);
      const c = (err as { code?: string }).code ?? "";
      if (c === "SQLITE_CANTOPEN" && !existsSync(file)) return undefined;
      if (!c.startsWith("SQLITE_READONLY") && !c.startsWith("SQLITE_CANTOPEN")) throw err;
    }
    return SqliteStore.readCopy(dir, file);
  }

  private static readCopy(dir: string, file: string): SqliteStore {
    const copyDir = mkdtempSync(join(tmpdir(), "ptalign-read-"));
    let db: Database.Database | undefined;
    try {
      for (const suffix of ["", "-wal"]) {
        if (!existsSync(file + suffix)) continue;
        copyFileSync(file + suffix, join(copyDir, DB_FILE + suffix));
        chmodSync(join(copyDir, DB_FILE + suffix), 0o600); // the copy is ours to migrate, whatever the original's mode
      }
      db = new Database(join(copyDir, DB_FILE), { timeout: 10_000 });
      const version = schemaVersion(db);
      if (version > SCHEMA_VERSION) throw newerSchema(file, version);
      if (version < SCHEMA_VERSION) prepareSchema(db, dir, file);
      const store = new SqliteStore(file, db);
      store.copyDir = copyDir;
      return store;
    } catch (err) {
      if (db?.open) db.close();
      rmSync(copyDir, { recursive: true, force: true });
      if (err instanceof InputError) throw err;
      if (isDamaged(err)) throw new DamagedStoreError(file, err);
      const c = (err as { code?: string }).code;
      if (c === "EACCES" || c === "EPERM") throw new InputError(`cannot read ${file} (${c}): ask its owner for read access, or copy the results directory`);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  /** Synchronous close, for exit paths that cannot wait. */
  closeSync(): void {
    if (this.db.open) this.db.close();
    if (this.copyDir) rmSync(this.copyDir, { recursive: true, force: true });
    this.copyDir = undefined;
  }

  async beginRun(r: BeginRun): Promise<void> {
    this.begin(r);
  }

  private begin(r: BeginRun, created?: string): void {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO runs (id, cell, study, model, protocol, target, settings, status, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = 'running', error = NULL, updated = excluded.updated`,
      )
      .run(r.id, r.cell ?? null, r.study ?? null, r.model, r.protocol, JSON.stringify(r.target), JSON.stringify(r.settings), created ?? t, t);
  }

  async addStep(runId: string, runIndex: number, seed: number, step: Step): Promise<void> {
    this.add(runId, runIndex, seed, step);
  }

  private add(runId: string, runIndex: number, seed: number, step: Step): void {
    const { raw, unknown, extra } = splitStep(step);
    this.insertStep.run(runId, runIndex, seed, step.t, JSON.stringify(step.ptoken), step.leak, step.sample, raw, unknown, extra);
  }

  async finishRun(id: string, result: Omit<Result, "version">): Promise<void> {
    this.finish(id, result);
  }

  private finish(id: string, result: Omit<Result, "version">): void {
    this.db
      .prepare("UPDATE runs SET status = 'done', error = NULL, metrics = ?, verdict = ?, settings = COALESCE(?, settings), extra = ?, run_fields = ?, updated = ? WHERE id = ?")
      .run(JSON.stringify(result.metrics), JSON.stringify(result.verdict), result.settings ? JSON.stringify(result.settings) : null, resultFields(result), runFields(result.runs), now(), id);
  }

  async failRun(id: string, error: string, partial?: Omit<Result, "version">): Promise<void> {
    this.fail(id, error, partial);
  }

  private fail(id: string, error: string, partial?: Omit<Result, "version">): void {
    if (partial) {
      this.db
        .prepare("UPDATE runs SET status = 'failed', error = ?, settings = COALESCE(?, settings), extra = ?, run_fields = ?, updated = ? WHERE id = ?")
        .run(error, partial.settings ? JSON.stringify(partial.settings) : null, resultFields(partial), runFields(partial.runs), now(), id);
    } else this.db.prepare("UPDATE runs SET status = 'failed', error = ?, updated = ? WHERE id = ?").run(error, now(), id);
  }

  async finishPart(id: string, runIndex: number, seed: number, steps: number, fields: Record<string, unknown> = {}): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM steps WHERE run_id = ? AND run_index = ? AND t >= ?").run(id, runIndex, steps);
      const extra = Object.keys(fields).length > 0 ? JSON.stringify(fields) : null;
      this.db.prepare("INSERT OR REPLACE INTO run_parts (run_id, run_index, seed, steps, fields) VALUES (?, ?, ?, ?, ?)").run(id, runIndex, seed, steps, extra);
    })();
  }

  async finishedParts(id: string): Promise<Set<number>> {
    return new Set((this.db.prepare("SELECT run_index FROM run_parts WHERE run_id = ?").all(id) as { run_index: number }[]).map((r) => r.run_index));
  }

  async dropSteps(id: string, fromRunIndex: number): Promise<void> {
    this.drop(id, fromRunIndex);
  }

  private drop(id: string, fromRunIndex: number): void {
    this.db.prepare("DELETE FROM steps WHERE run_id = ? AND run_index >= ?").run(id, fromRunIndex);
  }

  async putResult(result: Result & { id: string }, extra: { cell?: string | null; study?: string | null; created?: string } = {}): Promise<void> {
    this.db.transaction(() => {
      this.begin({ id: result.id, cell: extra.cell, study: extra.study, model: result.model, protocol: result.protocol, target: result.target, settings: result.settings ?? {} }, extra.created);
      this.drop(result.id, result.runs.length);
      result.runs.forEach((run, r) => run.steps.forEach((s) => this.add(result.id, r, run.seed, s)));
      if (result.settings?.partial) this.fail(result.id, "stopped early", result);
      else this.finish(result.id, result);
    })();
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    return row && toRecord(row);
  }

  async findCell(cell: string): Promise<RunRecord | undefined> {
    const row = this.db.prepare("SELECT * FROM runs WHERE cell = ? ORDER BY created DESC, id DESC LIMIT 1").get(cell) as RunRow | undefined;
    return row && toRecord(row);
  }

  async listRuns(): Promise<RunRecord[]> {
    return (this.db.prepare("SELECT * FROM runs ORDER BY created, id").all() as RunRow[]).map(toRecord);
  }

  async runsOf(id: string): Promise<Run[]> {
    const row = this.db.prepare("SELECT run_fields FROM runs WHERE id = ?").get(id) as { run_fields: string | null } | undefined;
    return this.readRuns(id, row?.run_fields ?? null);
  }

  private readRuns(id: string, fieldsJson: string | null): Run[] {
    const rows = this.db.prepare("SELECT run_index, seed, t, ptoken, leak, sample, raw, unknown, extra FROM steps WHERE run_id = ? ORDER BY run_index, t").all(id) as StepRow[];
    // The run-level fields recorded when the measurement ended (seed, stopped, ...): also runs that have no step.
    const fields = fieldsJson ? (JSON.parse(fieldsJson) as Omit<Run, "steps">[]) : [];
    const runs: Run[] = fields.map((f) => ({ ...f, steps: [] }));
    // Until then, the fields of the runs a study recorded complete (finishPart).
    const parts = fieldsJson ? [] : (this.db.prepare("SELECT run_index, seed, fields FROM run_parts WHERE run_id = ? AND fields IS NOT NULL").all(id) as { run_index: number; seed: number; fields: string }[]);
    for (const row of rows) {
      while (runs.length <= row.run_index) runs.push({ seed: row.seed, steps: [] });
      const run = runs[row.run_index]!;
      run.seed = row.seed;
      run.steps.push(joinStep(row));
    }
    for (const p of parts) {
      while (runs.length <= p.run_index) runs.push({ seed: p.seed, steps: [] });
      Object.assign(runs[p.run_index]!, JSON.parse(p.fields) as Omit<Run, "steps" | "seed">);
    }
    // A run's fields in the result's order: seed, steps, then the rest (stopped, ...).
    return runs.map(({ seed, steps, ...rest }) => ({ seed, steps, ...rest }));
  }

  async stepCounts(id: string): Promise<number[]> {
    const rows = this.db.prepare("SELECT run_index, count(*) AS n FROM steps WHERE run_id = ? GROUP BY run_index ORDER BY run_index").all(id) as { run_index: number; n: number }[];
    const out: number[] = [];
    for (const r of rows) {
      while (out.length < r.run_index) out.push(0);
      out[r.run_index] = r.n;
    }
    return out;
  }

  async resultOf(rec: RunRecord, opts: { withSteps?: boolean } = {}): Promise<StoredResult> {
    const row = this.db.prepare("SELECT extra, run_fields FROM runs WHERE id = ?").get(rec.id) as { extra: string | null; run_fields: string | null } | undefined;
    const extra = row?.extra ? (JSON.parse(row.extra) as Record<string, unknown>) : {};
    return {
      version: 1,
      model: rec.model,
      protocol: rec.protocol,
      target: rec.target,
      runs: opts.withSteps === false ? [] : this.readRuns(rec.id, row?.run_fields ?? null),
      metrics: rec.metrics,
      verdict: rec.verdict,
      settings: rec.settings,
      id: rec.id,
      ...extra,
      status: rec.status,
      error: rec.error,
      created: rec.created,
    };
  }

  /**
   * One IMMEDIATE transaction, so two claimers cannot both win. A claim held by a process that is gone (same host,
   * pid not alive) is taken over; a claim from another host is trusted.
   */
  async claimCell(cell: string): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT pid, host FROM claims WHERE cell = ?").get(cell) as { pid: number; host: string } | undefined;
      if (row && !(row.pid === process.pid && row.host === hostname()) && ownerAlive(row)) return false;
      this.db.prepare("INSERT OR REPLACE INTO claims (cell, pid, host, started) VALUES (?, ?, ?, ?)").run(cell, process.pid, hostname(), now());
      return true;
    }).immediate();
  }

  async releaseCell(cell: string): Promise<void> {
    this.db.prepare("DELETE FROM claims WHERE cell = ? AND pid = ? AND host = ?").run(cell, process.pid, hostname());
  }

  async claimedCells(): Promise<string[]> {
    return (this.db.prepare("SELECT cell FROM claims ORDER BY cell").all() as { cell: string }[]).map((r) => r.cell);
  }

  async putTaskResult(r: TaskRecord): Promise<void> {
    this.db
      .prepare("INSERT INTO task_results (id, task, model, created, result) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET result = excluded.result")
      .run(r.id, r.task, r.model, now(), JSON.stringify(r));
  }

  async listTaskResults(): Promise<TaskListing[]> {
    return this.taskListing();
  }

  private taskListing(): TaskListing[] {
    return this.db.prepare("SELECT id, task, model, created FROM task_results ORDER BY created, id").all() as TaskListing[];
  }

  async getTaskResult(id: string): Promise<TaskRecord | undefined> {
    const row = this.db.prepare("SELECT result FROM task_results WHERE id = ?").get(id) as { result: string } | undefined;
    return row && (JSON.parse(row.result) as TaskRecord);
  }

  async totalSteps(): Promise<number> {
    return this.countSteps();
  }

  private countSteps(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM steps").get() as { n: number }).n;
  }

  async version(): Promise<string> {
    const r = this.db.prepare("SELECT count(*) AS n, max(updated) AS u FROM runs").get() as { n: number; u: string | null };
    return `${r.n}:${r.u ?? ""}:${this.countSteps()}:${this.taskListing().length}`;
  }
}

/** Creates the tables of a new store, or migrates an older one (DIR/runs/*.json fill what schema 1 dropped). */
function prepareSchema(db: Database.Database, dir: string, file: string): void {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) throw newerSchema(file, version);
  if (version === 0) createSchema(db);
  else if (version < SCHEMA_VERSION) migrate(db, version, dir);
}

const newerSchema = (file: string, version: number) =>
  new InputError(`${file} was written by a newer ptalign (store schema ${version}, this one reads up to ${SCHEMA_VERSION}): upgrade ptalign (npm install -g ptalign@latest)`);

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
    settings: readRecordedSettings(JSON.parse(row.settings)),
    status: row.status as RunStatus,
    error: row.error,
    created: row.created,
    updated: row.updated,
    metrics: row.metrics ? (JSON.parse(row.metrics) as Metrics) : null,
    verdict: row.verdict ? (JSON.parse(row.verdict) as Verdict) : null,
  };
}
