// The store of record: one interface every database implements (SQLite today, src/store/sqlite.ts; others register
// in src/store/registry.ts). Every method is async so that a networked database fits behind it unchanged; the
// SQLite implementation is synchronous underneath. Callers outside src/store see only this file's types.

import type { Metrics, ProtocolName, Result, Run, Step, Target, Verdict } from "../types.ts";
import type { RecordedSettings } from "../types.ts";

export type RunStatus = "running" | "done" | "failed";

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
  /** Marks a measurement failed with a one-line reason (`partial`: the result fields known so far, as finishRun). */
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
   * Claims a study cell for this process: true when it was free, already ours, or held by a process that is gone;
   * false when another live process holds it.
   */
  claimCell(cell: string): Promise<boolean>;
  /** Gives a claimed cell back (finished, failed or abandoned). */
  releaseCell(cell: string): Promise<void>;
  /** Cells claimed right now. */
  claimedCells(): Promise<string[]>;

  putTaskResult(result: TaskRecord): Promise<void>;
  listTaskResults(): Promise<TaskListing[]>;
  getTaskResult(id: string): Promise<TaskRecord | undefined>;

  totalSteps(): Promise<number>;
  /** Changes whenever a step, a measurement or a task result changes: what `view` polls to know when to redraw. */
  version(): Promise<string>;
  close(): Promise<void>;
}
