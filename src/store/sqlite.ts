// The SQLite store DIR/ptalign.db (better-sqlite3, WAL), the embedded default ResultStore. Every step is written as
// soon as it is computed, so a crash loses at most the step in flight; (run_id, run_index, t) is the primary key of
// a step, so no step is ever stored twice (a resumed run that recomputes a step overwrites it with the same values).
// Schema and migrations: src/store/schema.ts; docs/report.md describes the tables.

import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { InputError } from "../errors.ts";
import { DamagedStoreError, ensureWritableDir, isDamaged } from "./access.ts";
import { ownerGone } from "./lease.ts";
import { createSchema, LEASES_TABLE, migrate, schemaVersion, SCHEMA_VERSION } from "./schema.ts";
import { assembleRuns, resultFields, runFields, splitStep, toRecord } from "./fields.ts";
import type { BeginRun, Lease, PartRow, ResultStore, RunRecord, RunRow, RunRows, RunStatus, StepRow, StoredResult, TaskListing, TaskRecord, TaskRows } from "./types.ts";
import type { Metrics, ProtocolName, Result, Run, Step, Target, Verdict } from "../types.ts";

export const DB_FILE = "ptalign.db";

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
      db.exec(LEASES_TABLE);
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
    const parts = fieldsJson ? [] : (this.db.prepare("SELECT run_index, seed, fields FROM run_parts WHERE run_id = ? AND fields IS NOT NULL").all(id) as { run_index: number; seed: number; fields: string }[]);
    return assembleRuns(rows, fieldsJson, parts);
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
   * One IMMEDIATE transaction, so two claimers cannot both win: the first cell in order that is not done and whose
   * lease is free, lapsed or ours. A lease, not a process id: a reused PID can never make a cell wait forever. As a
   * shortcut, a lease whose owner ran on this machine (owner `host:pid:…`) and whose process is gone is taken over at
   * once: a study stopped with kill -9 and run again does not wait out the lease.
   */
  async claimNext(cells: readonly string[], lease: Lease): Promise<string | undefined> {
    const held = this.db.prepare("SELECT owner, expires FROM leases WHERE cell = ?");
    const done = this.db.prepare("SELECT 1 FROM runs WHERE cell = ? AND status = 'done' LIMIT 1");
    const take = this.db.prepare("INSERT OR REPLACE INTO leases (cell, owner, expires) VALUES (?, ?, ?)");
    return this.db.transaction(() => {
      const t = Date.now();
      for (const cell of cells) {
        const row = held.get(cell) as { owner: string; expires: number } | undefined;
        if (row && row.owner !== lease.owner && row.expires > t && !ownerGone(row.owner)) continue;
        if (done.get(cell)) continue;
        take.run(cell, lease.owner, t + lease.ms);
        return cell;
      }
      return undefined;
    }).immediate();
  }

  async renewCell(cell: string, lease: Lease): Promise<boolean> {
    return this.db.prepare("UPDATE leases SET expires = ? WHERE cell = ? AND owner = ?").run(Date.now() + lease.ms, cell, lease.owner).changes === 1;
  }

  async releaseCell(cell: string, owner: string): Promise<void> {
    this.db.prepare("DELETE FROM leases WHERE cell = ? AND owner = ?").run(cell, owner);
  }

  async claimedCells(): Promise<string[]> {
    if (!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leases'").get()) return []; // never written by this version
    return (this.db.prepare("SELECT cell FROM leases WHERE expires > ? ORDER BY cell").all(Date.now()) as { cell: string }[]).map((r) => r.cell);
  }

  async dumpRun(id: string): Promise<RunRows | undefined> {
    const run = this.db.prepare("SELECT id, cell, study, model, protocol, target, settings, status, error, created, updated, metrics, verdict, extra, run_fields FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    if (!run) return undefined;
    const steps = this.db.prepare("SELECT run_index, seed, t, ptoken, leak, sample, raw, unknown, extra FROM steps WHERE run_id = ? ORDER BY run_index, t").all(id) as StepRow[];
    const parts = this.db.prepare("SELECT run_index, seed, steps, fields FROM run_parts WHERE run_id = ? ORDER BY run_index").all(id) as PartRow[];
    return { run, steps, parts };
  }

  async loadRun({ run, steps, parts }: RunRows): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM runs WHERE id = ?").run(run.id); // its steps and parts go with it (ON DELETE CASCADE)
      this.db
        .prepare("INSERT INTO runs (id, cell, study, model, protocol, target, settings, status, error, created, updated, metrics, verdict, extra, run_fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(run.id, run.cell, run.study, run.model, run.protocol, run.target, run.settings, run.status, run.error, run.created, run.updated, run.metrics, run.verdict, run.extra, run.run_fields);
      for (const s of steps) this.insertStep.run(run.id, s.run_index, s.seed, s.t, s.ptoken, s.leak, s.sample, s.raw, s.unknown, s.extra);
      const part = this.db.prepare("INSERT INTO run_parts (run_id, run_index, seed, steps, fields) VALUES (?, ?, ?, ?, ?)");
      for (const p of parts) part.run(run.id, p.run_index, p.seed, p.steps, p.fields);
    })();
  }

  async dumpTask(id: string): Promise<TaskRows | undefined> {
    return this.db.prepare("SELECT id, task, model, created, result FROM task_results WHERE id = ?").get(id) as TaskRows | undefined;
  }

  async loadTask(r: TaskRows): Promise<void> {
    this.db.prepare("INSERT OR REPLACE INTO task_results (id, task, model, created, result) VALUES (?, ?, ?, ?, ?)").run(r.id, r.task, r.model, r.created, r.result);
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
