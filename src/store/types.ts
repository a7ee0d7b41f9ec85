// The store of record: one interface every database implements (SQLite today, src/store/sqlite.ts; others register
// in src/store/registry.ts). Every method is async so that a networked database fits behind it unchanged; the
// SQLite implementation is synchronous underneath. Callers outside src/store see only this file's types.

import type { Metrics, ProtocolName, Result, Run, Step, Target, Verdict } from "../types.ts";
import type { RecordedSettings } from "../types.ts";

/**
 * interrupted: stopped by Ctrl-C, SIGTERM or a full disk, its finished steps kept; the same command resumes it
 * (store/status.ts says how it is stored).
 */
export type RunStatus = "running" | "done" | "failed" | "interrupted";

/** One measurement (model × target × protocol × settings, all its seeds' runs) as the store lists it. */
export interface RunRecord {
  id: string;
  /** Hash of the settings that define the measurement (see study/matrix.ts); a study resumes by it. */
  cell: string | null;
  /** The study file the run came from (null for `ptalign run --model ...`). */
  study: string | null;
  model: string;
  protocol: ProtocolName;
  target: Target;
  settings: RecordedSettings;
  status: RunStatus;
  error: string | null;
  created: string;
  updated: string;
  /** Null until the measurement is finished (a running or failed one has none stored). */
  metrics: Metrics | null;
  verdict: Verdict | null;
}

/**
 * A stored measurement as a result: the result JSON's fields, with metrics and verdict null while it runs or when
 * it failed (readers that need numbers compute them from the steps: src/report/partial.ts).
 */
export interface StoredResult extends Omit<Result, "metrics" | "verdict"> {
  id: string;
  metrics: Metrics | null;
  verdict: Verdict | null;
  status: RunStatus;
  error: string | null;
  created: string;
}

export interface BeginRun {
  id: string;
  cell?: string | null;
  study?: string | null;
  model: string;
  protocol: ProtocolName;
  target: Target;
  settings: RecordedSettings;
}

/** A downstream task's result (codegen, recommend), kept whole: its own shape is documented in docs/tasks.md. */
export interface TaskRecord {
  id: string;
  task: string;
  model: string;
}

export interface TaskListing {
  id: string;
  task: string;
  model: string;
  created: string;
}

/** A claim on a study cell: who holds it (one id per worker process) and for how long after each claim or renewal. */
export interface Lease {
  /** `host:pid:random` (study/run.ts): unique per worker; a store may recognise a dead local owner by it. */
  owner: string;
  ms: number;
}

/** The columns of a measurement's row (JSON columns as their text, so that a copy is byte for byte). */
export interface RunRow {
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

export interface StepRow {
  run_index: number;
  seed: number;
  t: number;
  ptoken: string;
  leak: number;
  sample: string | null;
  raw: string | null;
  unknown: number | null;
  extra: string | null;
}

export interface PartRow {
  run_index: number;
  seed: number;
  steps: number;
  fields: string | null;
}

/** Everything stored about one measurement. */
export interface RunRows {
  run: RunRow;
  steps: StepRow[];
  parts: PartRow[];
}

export interface TaskRows {
  id: string;
  task: string;
  model: string;
  created: string;
  result: string;
}

export interface ResultStore {
  /** Where the store lives, for messages (a file path, a URL without credentials). */
  readonly location: string;

  /** Creates the measurement (status running) if it does not exist yet; an existing one is marked running again. */
  beginRun(run: BeginRun): Promise<void>;
  /**
   * Writes one step of run index `runIndex` now (durable when the promise settles). The step is stored whole, every
   * field included; (id, runIndex, step.t) identifies it, so writing it again replaces it.
   */
  addStep(id: string, runIndex: number, seed: number, step: Step): Promise<void>;
  /**
   * Marks a measurement done with its metrics and verdict, the settings as finally known, and the run-level and
   * result-level fields the steps do not carry (a run's `stopped`, keys added to the result later). No step is rewritten.
   */
  finishRun(id: string, result: Omit<Result, "version">): Promise<void>;
  /**
   * Marks a measurement failed with a one-line reason (`partial`: the result fields known so far, as finishRun). An
   * error made by interruptedError (store/status.ts) marks it interrupted: readers get status "interrupted".
   */
  failRun(id: string, error: string, partial?: Omit<Result, "version">): Promise<void>;
  /**
   * Run index r is complete with `steps` steps (later steps left by an earlier attempt are removed); `fields` are the
   * run's own fields other than seed and steps (a batch run's `stopped`), returned by runsOf.
   */
  finishPart(id: string, runIndex: number, seed: number, steps: number, fields?: Record<string, unknown>): Promise<void>;
  /** Run indices recorded complete by finishPart. */
  finishedParts(id: string): Promise<Set<number>>;
  /** Deletes the steps of run index ≥ fromRunIndex (runs recomputed from their start). */
  dropSteps(id: string, fromRunIndex: number): Promise<void>;
  /**
   * A whole result in one transaction (runs saved without step-by-step recording, e.g. `demo`, `correct`).
   * `created` keeps the time it was first measured (a merge copies measurements between stores); default now.
   */
  putResult(result: Result & { id: string }, extra?: { cell?: string | null; study?: string | null; created?: string }): Promise<void>;

  getRun(id: string): Promise<RunRecord | undefined>;
  /** The most recent measurement of a study cell. */
  findCell(cell: string): Promise<RunRecord | undefined>;
  /** Every measurement, oldest first. */
  listRuns(): Promise<RunRecord[]>;
  /** The stored runs of a measurement, in run order, each with its steps in step order. */
  runsOf(id: string): Promise<Run[]>;
  /** Number of stored steps per run index. */
  stepCounts(id: string): Promise<number[]>;
  /** A measurement as a result (its steps read back from the store); `withSteps: false` leaves runs empty. */
  resultOf(rec: RunRecord, opts?: { withSteps?: boolean }): Promise<StoredResult>;

  /**
   * Claims the first of `cells` (in their order) that no measurement has finished and no other owner holds under an
   * unexpired lease (a lapsed lease is taken over; a cell already ours is renewed): the lease runs `lease.ms` from now,
   * on the database's clock. Undefined when every cell is done or held. Two owners never both win one cell.
   */
  claimNext(cells: readonly string[], lease: Lease): Promise<string | undefined>;
  /** Extends our lease on a cell by `lease.ms`; false when it is no longer ours (it lapsed and another owner took it). */
  renewCell(cell: string, lease: Lease): Promise<boolean>;
  /** Gives a claimed cell back (finished, failed or abandoned); a cell another owner holds is left alone. */
  releaseCell(cell: string, owner: string): Promise<void>;
  /** Cells under an unexpired lease right now. */
  claimedCells(): Promise<string[]>;

  /** A measurement's rows exactly as stored (`ptalign store copy`); undefined when there is none. */
  dumpRun(id: string): Promise<RunRows | undefined>;
  /** Writes a measurement's rows as they are (replacing a measurement of the same id), in one transaction. */
  loadRun(rows: RunRows): Promise<void>;
  /** A task result's row exactly as stored. */
  dumpTask(id: string): Promise<TaskRows | undefined>;
  loadTask(rows: TaskRows): Promise<void>;

  putTaskResult(result: TaskRecord): Promise<void>;
  listTaskResults(): Promise<TaskListing[]>;
  getTaskResult(id: string): Promise<TaskRecord | undefined>;

  totalSteps(): Promise<number>;
  /** Changes whenever a step, a measurement or a task result changes: what `view` polls to know when to redraw. */
  version(): Promise<string>;
  close(): Promise<void>;
}
