// The PostgreSQL store (`--store postgresql://…`): the same record as the SQLite store (src/store/sqlite.ts), in a
// server several machines share, so a study's cells can be split between workers on different hosts (leases,
// claimNext). Every write is one statement or one transaction; a step's key (run_id, run_index, t) keeps one copy
// of each step whoever writes it. A lost connection or a restarting server is retried with backoff (bounded by
// PTALIGN_PG_RETRY_SECONDS, default 60) — every operation is idempotent, so a retry whose first attempt did commit
// changes nothing. Schema: src/store/postgresSchema.ts; docs/store.md.

import type pg from "pg";
import { InputError, RunError } from "../errors.ts";
import { assembleRuns, resultFields, runFields, splitStep, toRecord } from "./fields.ts";
import { PG_SCHEMA_VERSION, PG_TABLES, SCHEMA_LOCK } from "./postgresSchema.ts";
import { parsePostgresUrl, passwordFor, type PostgresTarget } from "./postgresUrl.ts";
import type { BeginRun, Lease, PartRow, ResultStore, RunRecord, RunRow, RunRows, StepRow, StoredResult, TaskListing, TaskRecord, TaskRows } from "./types.ts";
import type { Result, Run, Step } from "../types.ts";

const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// bigint columns (seed) and count(*) come back as numbers: every value we store fits a double exactly.
const INT8_OID = 20;
const typesOf = (driver: typeof pg): pg.CustomTypesConfig => ({
  getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? (v: string) => Number(v) : driver.types.getTypeParser(oid, format as "text"))) as pg.CustomTypesConfig["getTypeParser"],
});

/** Socket errors and SQLSTATEs that mean "the server is (re)starting or the connection dropped": worth retrying. */
const TRANSIENT_SOCKET = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const TRANSIENT_SQL = new Set(["57P01", "57P02", "57P03", "40001", "40P01", "53300"]);
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (TRANSIENT_SOCKET.has(code) || TRANSIENT_SQL.has(code) || code.startsWith("08"))) return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|connection timeout|terminating connection|Client has encountered a connection error|server closed the connection/i.test(message);
}

/** The bound on retries of one operation, in ms (PTALIGN_PG_RETRY_SECONDS). */
function retryBudget(): number {
  const s = Number(process.env.PTALIGN_PG_RETRY_SECONDS ?? 60);
  return (Number.isFinite(s) && s >= 0 ? s : 60) * 1000;
}

/** What to tell the user when the server cannot be used at all (at open): one line, what to do. */
function openError(err: unknown, target: PostgresTarget): Error {
  if (err instanceof InputError) return err;
  const code = (err as { code?: string }).code ?? "";
  const at = `PostgreSQL at ${target.host}:${target.port}`;
  const why = (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
  if (code === "28P01" || code === "28000") return new InputError(`${at} refused user ${target.user} (${why}): check the user, and the password in PGPASSWORD or ~/.pgpass (never in a study file)`);
  if (/password must be a string|no password/i.test(why)) return new InputError(`${at} asks user ${target.user} for a password and none was given: set PGPASSWORD or add a line to ~/.pgpass`);
  if (code === "3D000") return new InputError(`${at} has no database ${target.database}: create it (createdb ${target.database}) or fix the URL ${target.location}`);
  if (code === "42501") return new InputError(`${at}: user ${target.user} may not create ptalign's tables in ${target.database} (${why}): grant it CREATE, or use a database it owns`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new InputError(`${at}: host ${target.host} not found: fix the URL ${target.location}`);
  if (isTransient(err)) return new InputError(`cannot reach ${at} (${code || why}): start the server, or fix the host and port in ${target.location}`);
  return new InputError(`${at}: ${why} (${target.location})`);
}

export class PostgresStore implements ResultStore {
  readonly location: string;

  private constructor(private readonly pool: pg.Pool, target: PostgresTarget) {
    this.location = target.location;
  }

  /**
   * Opens the database at `url`: `write` creates or migrates ptalign's tables (one worker at a time, under an advisory
   * lock); a reader never writes and gets undefined when the database holds no ptalign tables yet. A newer schema,
   * an unreachable server, wrong credentials or a malformed URL are InputErrors (one line, exit 2).
   */
  static async open(url: string, write: boolean): Promise<PostgresStore | undefined> {
    const target = parsePostgresUrl(url);
    // The driver loads here, not when this module does: every command that opens a store imports this module, few
    // use PostgreSQL (docs/architecture.md, "Start-up cost").
    const { default: driver } = await import("pg");
    const pool = new driver.Pool({
      host: target.host,
      port: target.port,
      database: target.database,
      user: target.user,
      // Asked only when the server wants one (trust and certificate logins never call it).
      password: async () => {
        const password = passwordFor(target);
        if (password === undefined) throw new InputError(`PostgreSQL at ${target.host}:${target.port} asks user ${target.user} for a password and none was given: set PGPASSWORD or add a line to ~/.pgpass (PGPASSFILE)`);
        return password;
      },
      ssl: target.ssl,
      application_name: target.applicationName,
      options: target.options,
      max: 4,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 10_000,
      types: typesOf(driver),
    });
    // An idle connection the server dropped (restart): the pool discards it and the next query reconnects.
    pool.on("error", () => {});
    const store = new PostgresStore(pool, target);
    try {
      const version = await store.schemaVersion();
      if (version > PG_SCHEMA_VERSION) throw newerSchema(target, version);
      if (version === 0 && !write) {
        await pool.end();
        return undefined;
      }
      if (write && version < PG_SCHEMA_VERSION) await store.prepareSchema(target);
      return store;
    } catch (err) {
      await pool.end().catch(() => {});
      throw openError(err, target);
    }
  }

  /** 0 without ptalign's tables. */
  private async schemaVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ t: string | null }>("SELECT to_regclass('ptalign_meta')::text AS t");
    if (!rows[0]?.t) return 0;
    const v = await this.pool.query<{ value: string }>("SELECT value FROM ptalign_meta WHERE key = 'schema_version'");
    return v.rows[0] ? Number(v.rows[0].value) : 0;
  }

  private async prepareSchema(target: PostgresTarget): Promise<void> {
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
      // Another worker may have created or upgraded it while we waited for the lock.
      const exists = (await c.query<{ t: string | null }>("SELECT to_regclass('ptalign_meta')::text AS t")).rows[0]?.t;
      const version = exists ? Number((await c.query<{ value: string }>("SELECT value FROM ptalign_meta WHERE key = 'schema_version'")).rows[0]?.value ?? 0) : 0;
      if (version > PG_SCHEMA_VERSION) throw newerSchema(target, version);
      if (version === PG_SCHEMA_VERSION) return;
      await c.query(PG_TABLES);
      await c.query("INSERT INTO ptalign_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(PG_SCHEMA_VERSION)]);
    });
  }

  /** One statement, retried while the server is unreachable (bounded, with backoff). */
  private async q<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.retry(async () => (await this.pool.query<T>(text, params)).rows);
  }

  /** A transaction on one connection, retried whole. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.retry(async () => {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query("BEGIN");
        const out = await fn(c);
        await c.query("COMMIT");
        return out;
      } catch (err) {
        broken = isTransient(err);
        if (!broken) await c.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        c.release(broken);
      }
    });
  }

  private async retry<T>(op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + retryBudget();
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!isTransient(err)) throw err;
        if (Date.now() >= deadline) {
          throw new RunError(`lost the PostgreSQL store ${this.location} (${(err as { code?: string }).code ?? (err as Error).message}) and it did not come back within ${retryBudget() / 1000} s (PTALIGN_PG_RETRY_SECONDS): what was written is kept; run again to resume`);
        }
        await sleep(Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2));
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }

  async beginRun(r: BeginRun): Promise<void> {
    await this.begin(r, (text, params) => this.q(text, params));
  }

  private async begin(r: BeginRun, exec: (text: string, params: unknown[]) => Promise<unknown>): Promise<void> {
    const t = now();
    await exec(
      `INSERT INTO ptalign_runs (id, cell, study, model, protocol, target, settings, status, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $8)
       ON CONFLICT (id) DO UPDATE SET status = 'running', error = NULL, updated = excluded.updated`,
      [r.id, r.cell ?? null, r.study ?? null, r.model, r.protocol, JSON.stringify(r.target), JSON.stringify(r.settings), t],
    );
  }

  async addStep(runId: string, runIndex: number, seed: number, step: Step): Promise<void> {
    await this.q(INSERT_STEP, stepParams(runId, runIndex, seed, step));
  }

  async finishRun(id: string, result: Omit<Result, "version">): Promise<void> {
    await this.q(FINISH, finishParams(id, result));
  }

  async failRun(id: string, error: string, partial?: Omit<Result, "version">): Promise<void> {
    if (partial) await this.q(FAIL_PARTIAL, [error, partial.settings ? JSON.stringify(partial.settings) : null, resultFields(partial), runFields(partial.runs), now(), id]);
    else await this.q("UPDATE ptalign_runs SET status = 'failed', error = $1, updated = $2 WHERE id = $3", [error, now(), id]);
  }

  async finishPart(id: string, runIndex: number, seed: number, steps: number, fields: Record<string, unknown> = {}): Promise<void> {
    const extra = Object.keys(fields).length > 0 ? JSON.stringify(fields) : null;
    // One statement (atomic, one round trip): the steps beyond the part's end go, the part is recorded.
    await this.q(
      `WITH gone AS (DELETE FROM ptalign_steps WHERE run_id = $1 AND run_index = $2 AND t >= $4)
       INSERT INTO ptalign_run_parts (run_id, run_index, seed, steps, fields) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id, run_index) DO UPDATE SET seed = excluded.seed, steps = excluded.steps, fields = excluded.fields`,
      [id, runIndex, seed, steps, extra],
    );
  }

  async finishedParts(id: string): Promise<Set<number>> {
    return new Set((await this.q<{ run_index: number }>("SELECT run_index FROM ptalign_run_parts WHERE run_id = $1", [id])).map((r) => r.run_index));
  }

  async dropSteps(id: string, fromRunIndex: number): Promise<void> {
    await this.q("DELETE FROM ptalign_steps WHERE run_id = $1 AND run_index >= $2", [id, fromRunIndex]);
  }

  async putResult(result: Result & { id: string }, extra: { cell?: string | null; study?: string | null } = {}): Promise<void> {
    await this.tx(async (c) => {
      const exec = (text: string, params: unknown[]) => c.query(text, params);
      await this.begin({ id: result.id, cell: extra.cell, study: extra.study, model: result.model, protocol: result.protocol, target: result.target, settings: result.settings ?? {} }, exec);
      await exec("DELETE FROM ptalign_steps WHERE run_id = $1 AND run_index >= $2", [result.id, result.runs.length]);
      for (const [r, run] of result.runs.entries()) for (const s of run.steps) await exec(INSERT_STEP, stepParams(result.id, r, run.seed, s));
      if (result.settings?.partial) await exec(FAIL_PARTIAL, ["stopped early", JSON.stringify(result.settings), resultFields(result), runFields(result.runs), now(), result.id]);
      else await exec(FINISH, finishParams(result.id, result));
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const [row] = await this.q<RunRow>(`SELECT ${RUN_COLUMNS} FROM ptalign_runs WHERE id = $1`, [id]);
    return row && toRecord(row);
  }

  async findCell(cell: string): Promise<RunRecord | undefined> {
    const [row] = await this.q<RunRow>(`SELECT ${RUN_COLUMNS} FROM ptalign_runs WHERE cell = $1 ORDER BY created DESC, id DESC LIMIT 1`, [cell]);
    return row && toRecord(row);
  }

  async listRuns(): Promise<RunRecord[]> {
    // COLLATE "C": the same order as SQLite's byte-wise comparison, whatever the database's locale.
    return (await this.q<RunRow>(`SELECT ${RUN_COLUMNS} FROM ptalign_runs ORDER BY created COLLATE "C", id COLLATE "C"`)).map(toRecord);
  }

  async runsOf(id: string): Promise<Run[]> {
    const [row] = await this.q<{ run_fields: string | null }>("SELECT run_fields FROM ptalign_runs WHERE id = $1", [id]);
    return this.readRuns(id, row?.run_fields ?? null);
  }

  /** As SqliteStore.readRuns: the steps, with the run-level fields recorded at the end or, until then, per part. */
  private async readRuns(id: string, fieldsJson: string | null): Promise<Run[]> {
    const rows = await this.q<StepRow>(`SELECT ${STEP_COLUMNS} FROM ptalign_steps WHERE run_id = $1 ORDER BY run_index, t`, [id]);
    const parts = fieldsJson ? [] : await this.q<{ run_index: number; seed: number; fields: string }>("SELECT run_index, seed, fields FROM ptalign_run_parts WHERE run_id = $1 AND fields IS NOT NULL ORDER BY run_index", [id]);
    return assembleRuns(rows, fieldsJson, parts);
  }

  async stepCounts(id: string): Promise<number[]> {
    const rows = await this.q<{ run_index: number; n: number }>("SELECT run_index, count(*) AS n FROM ptalign_steps WHERE run_id = $1 GROUP BY run_index ORDER BY run_index", [id]);
    const out: number[] = [];
    for (const r of rows) {
      while (out.length < r.run_index) out.push(0);
      out[r.run_index] = r.n;
    }
    return out;
  }

  async resultOf(rec: RunRecord, opts: { withSteps?: boolean } = {}): Promise<StoredResult> {
    const [row] = await this.q<{ extra: string | null; run_fields: string | null }>("SELECT extra, run_fields FROM ptalign_runs WHERE id = $1", [rec.id]);
    const extra = row?.extra ? (JSON.parse(row.extra) as Record<string, unknown>) : {};
    return {
      version: 1,
      model: rec.model,
      protocol: rec.protocol,
      target: rec.target,
      runs: opts.withSteps === false ? [] : await this.readRuns(rec.id, row?.run_fields ?? null),
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
   * The cells' lease rows are made once (INSERT … ON CONFLICT DO NOTHING), then one statement picks the first
   * free one with FOR UPDATE SKIP LOCKED — a row another worker is claiming right now is skipped, not waited for —
   * and stamps our lease on it. Expiry is on the server's clock, so workers' clocks need not agree.
   */
  async claimNext(cells: readonly string[], lease: Lease): Promise<string | undefined> {
    if (cells.length === 0) return undefined;
    const fresh = cells.filter((c) => !this.knownCells.has(c));
    if (fresh.length > 0) {
      await this.q("INSERT INTO ptalign_leases (cell) SELECT unnest($1::text[]) ON CONFLICT (cell) DO NOTHING", [fresh]);
      for (const c of fresh) this.knownCells.add(c);
    }
    // One statement, so one round trip and atomic: the row is locked by the SELECT and stamped by the UPDATE.
    const [row] = await this.q<{ cell: string }>(
      `WITH pick AS (
         SELECT l.cell FROM ptalign_leases l
          WHERE l.cell = ANY($1::text[])
            AND (l.owner IS NULL OR l.owner = $2 OR l.expires < clock_timestamp())
            AND NOT EXISTS (SELECT 1 FROM ptalign_runs r WHERE r.cell = l.cell AND r.status = 'done')
          ORDER BY array_position($1::text[], l.cell)
          LIMIT 1
          FOR UPDATE OF l SKIP LOCKED)
       UPDATE ptalign_leases SET owner = $2, expires = clock_timestamp() + $3 * interval '1 millisecond'
         FROM pick WHERE ptalign_leases.cell = pick.cell
       RETURNING ptalign_leases.cell`,
      [cells, lease.owner, lease.ms],
    );
    return row?.cell;
  }

  private readonly knownCells = new Set<string>();

  async renewCell(cell: string, lease: Lease): Promise<boolean> {
    const rows = await this.q("UPDATE ptalign_leases SET expires = clock_timestamp() + $3 * interval '1 millisecond' WHERE cell = $1 AND owner = $2 RETURNING cell", [cell, lease.owner, lease.ms]);
    return rows.length === 1;
  }

  async releaseCell(cell: string, owner: string): Promise<void> {
    await this.q("UPDATE ptalign_leases SET owner = NULL, expires = NULL WHERE cell = $1 AND owner = $2", [cell, owner]);
  }

  async claimedCells(): Promise<string[]> {
    return (await this.q<{ cell: string }>(`SELECT cell FROM ptalign_leases WHERE owner IS NOT NULL AND expires > clock_timestamp() ORDER BY cell COLLATE "C"`)).map((r) => r.cell);
  }

  async dumpRun(id: string): Promise<RunRows | undefined> {
    const [run] = await this.q<RunRow>(`SELECT ${RUN_COLUMNS} FROM ptalign_runs WHERE id = $1`, [id]);
    if (!run) return undefined;
    const steps = await this.q<StepRow>(`SELECT ${STEP_COLUMNS} FROM ptalign_steps WHERE run_id = $1 ORDER BY run_index, t`, [id]);
    const parts = await this.q<PartRow>("SELECT run_index, seed, steps, fields FROM ptalign_run_parts WHERE run_id = $1 ORDER BY run_index", [id]);
    return { run, steps, parts };
  }

  async loadRun({ run, steps, parts }: RunRows): Promise<void> {
    await this.tx(async (c) => {
      await c.query("DELETE FROM ptalign_runs WHERE id = $1", [run.id]);
      await c.query(
        `INSERT INTO ptalign_runs (${RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [run.id, run.cell, run.study, run.model, run.protocol, run.target, run.settings, run.status, run.error, run.created, run.updated, run.metrics, run.verdict, run.extra, run.run_fields],
      );
      // Many steps per statement: a copy of a large store is not one round trip per step.
      for (let i = 0; i < steps.length; i += 500) {
        const chunk = steps.slice(i, i + 500);
        await c.query(
          `INSERT INTO ptalign_steps (run_id, ${STEP_COLUMNS})
           SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::int[], $5::text[], $6::float8[], $7::text[], $8::text[], $9::float8[], $10::text[])`,
          [run.id, ...(["run_index", "seed", "t", "ptoken", "leak", "sample", "raw", "unknown", "extra"] as const).map((k) => chunk.map((s) => s[k]))],
        );
      }
      for (const p of parts) await c.query("INSERT INTO ptalign_run_parts (run_id, run_index, seed, steps, fields) VALUES ($1, $2, $3, $4, $5)", [run.id, p.run_index, p.seed, p.steps, p.fields]);
    });
  }

  async dumpTask(id: string): Promise<TaskRows | undefined> {
    const [row] = await this.q<TaskRows>("SELECT id, task, model, created, result FROM ptalign_task_results WHERE id = $1", [id]);
    return row;
  }

  async loadTask(r: TaskRows): Promise<void> {
    await this.q(
      "INSERT INTO ptalign_task_results (id, task, model, created, result) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET task = excluded.task, model = excluded.model, created = excluded.created, result = excluded.result",
      [r.id, r.task, r.model, r.created, r.result],
    );
  }

  async putTaskResult(r: TaskRecord): Promise<void> {
    await this.q("INSERT INTO ptalign_task_results (id, task, model, created, result) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET result = excluded.result", [r.id, r.task, r.model, now(), JSON.stringify(r)]);
  }

  async listTaskResults(): Promise<TaskListing[]> {
    return this.q<TaskListing>(`SELECT id, task, model, created FROM ptalign_task_results ORDER BY created COLLATE "C", id COLLATE "C"`);
  }

  async getTaskResult(id: string): Promise<TaskRecord | undefined> {
    const [row] = await this.q<{ result: string }>("SELECT result FROM ptalign_task_results WHERE id = $1", [id]);
    return row && (JSON.parse(row.result) as TaskRecord);
  }

  async totalSteps(): Promise<number> {
    return (await this.q<{ n: number }>("SELECT count(*) AS n FROM ptalign_steps"))[0]!.n;
  }

  async version(): Promise<string> {
    const [r] = await this.q<{ n: number; u: string | null; s: number; k: number }>(
      "SELECT (SELECT count(*) FROM ptalign_runs) AS n, (SELECT max(updated) FROM ptalign_runs) AS u, (SELECT count(*) FROM ptalign_steps) AS s, (SELECT count(*) FROM ptalign_task_results) AS k",
    );
    return `${r!.n}:${r!.u ?? ""}:${r!.s}:${r!.k}`;
  }
}

const RUN_COLUMNS = "id, cell, study, model, protocol, target, settings, status, error, created, updated, metrics, verdict, extra, run_fields";
const STEP_COLUMNS = "run_index, seed, t, ptoken, leak, sample, raw, unknown, extra";

const INSERT_STEP = `INSERT INTO ptalign_steps (run_id, run_index, seed, t, ptoken, leak, sample, raw, unknown, extra) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (run_id, run_index, t) DO UPDATE SET seed = excluded.seed, ptoken = excluded.ptoken, leak = excluded.leak,
    sample = excluded.sample, raw = excluded.raw, unknown = excluded.unknown, extra = excluded.extra`;

function stepParams(runId: string, runIndex: number, seed: number, step: Step): unknown[] {
  const { raw, unknown, extra } = splitStep(step);
  return [runId, runIndex, seed, step.t, JSON.stringify(step.ptoken), step.leak, step.sample, raw, unknown, extra];
}

const FINISH = "UPDATE ptalign_runs SET status = 'done', error = NULL, metrics = $1, verdict = $2, settings = COALESCE($3, settings), extra = $4, run_fields = $5, updated = $6 WHERE id = $7";
const finishParams = (id: string, result: Omit<Result, "version">): unknown[] => [
  JSON.stringify(result.metrics),
  JSON.stringify(result.verdict),
  result.settings ? JSON.stringify(result.settings) : null,
  resultFields(result),
  runFields(result.runs),
  now(),
  id,
];
const FAIL_PARTIAL = "UPDATE ptalign_runs SET status = 'failed', error = $1, settings = COALESCE($2, settings), extra = $3, run_fields = $4, updated = $5 WHERE id = $6";

const newerSchema = (target: PostgresTarget, version: number) =>
  new InputError(`${target.location} was written by a newer ptalign (PostgreSQL store schema ${version}, this one reads up to ${PG_SCHEMA_VERSION}): upgrade ptalign (npm install -g ptalign@latest)`);
