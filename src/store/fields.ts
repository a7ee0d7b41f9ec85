// How a Step and a Result map onto the store's columns. The fields every step has (t, ptoken, leak, sample) and the
// two that schema 1 already kept (raw, unknown) have columns; every other field — value, outside, entropy_full,
// entropy_full_bounds, and any field added to a Step later — goes whole into the step's `extra` JSON, so the store
// keeps every field without a schema change. Result-level and run-level fields outside the columns are kept the same way.

import { readRecordedSettings } from "../config/recorded.ts";
import type { Metrics, ProtocolName, Run, Step, Target, Verdict } from "../types.ts";
import { statusOf } from "./status.ts";
import type { RunRecord, RunRow, StepRow } from "./types.ts";

const STEP_COLUMNS = new Set(["t", "ptoken", "leak", "sample", "raw", "unknown"]);
/** Result keys with their own column, and the reader's own keys (never stored as fields of the result). */
const RESULT_COLUMNS = new Set(["version", "model", "protocol", "target", "runs", "metrics", "verdict", "settings", "id", "status", "error", "created", "progress"]);

/** The JSON text of an object's keys outside `skip` (undefined values left out), or null when there is none. */
function rest(obj: object, skip: ReadonlySet<string>): string | null {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [k, v] of Object.entries(obj)) {
    if (skip.has(k) || v === undefined) continue;
    out[k] = v;
    any = true;
  }
  return any ? JSON.stringify(out) : null;
}

export function splitStep(step: Step): { raw: string | null; unknown: number | null; extra: string | null } {
  return { raw: step.raw ?? null, unknown: step.unknown ?? null, extra: rest(step, STEP_COLUMNS) };
}

export interface StepColumns {
  t: number;
  ptoken: string;
  leak: number;
  sample: string | null;
  raw: string | null;
  unknown: number | null;
  extra: string | null;
}

export function joinStep(row: StepColumns): Step {
  const step: Step = { t: row.t, ptoken: JSON.parse(row.ptoken) as number[], leak: row.leak, sample: row.sample };
  if (row.raw !== null) step.raw = row.raw;
  if (row.unknown !== null) step.unknown = row.unknown;
  if (row.extra !== null) Object.assign(step, JSON.parse(row.extra) as Partial<Step>);
  return step;
}

/** The step fields a column does not hold, as the `extra` JSON (null when none). */
export const stepExtra = (step: Step): string | null => rest(step, STEP_COLUMNS);

/** A result's fields outside the columns (keys added to the result JSON later), as JSON (null when none). */
export const resultFields = (result: object): string | null => rest(result, RESULT_COLUMNS);

/** Each run's fields other than its steps (seed, stopped, ...), as a JSON array. */
export const runFields = (runs: readonly Run[]): string => JSON.stringify(runs.map(({ steps: _steps, ...fields }) => fields));


/** A measurement's row as the store lists it (JSON columns parsed, settings read through the recorded schema). */
export function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    cell: row.cell,
    study: row.study,
    model: row.model,
    protocol: row.protocol as ProtocolName,
    target: JSON.parse(row.target) as Target,
    settings: readRecordedSettings(JSON.parse(row.settings)),
    status: statusOf(row.status, row.error),
    error: row.error,
    created: row.created,
    updated: row.updated,
    metrics: row.metrics ? (JSON.parse(row.metrics) as Metrics) : null,
    verdict: row.verdict ? (JSON.parse(row.verdict) as Verdict) : null,
  };
}

/**
 * The runs of a measurement from its step rows (in run and step order): the run-level fields recorded when it ended
 * (`fieldsJson`, also for runs without a step) or, until then, the fields of the runs recorded complete (`parts`).
 */
export function assembleRuns(rows: readonly StepRow[], fieldsJson: string | null, parts: readonly { run_index: number; seed: number; fields: string }[]): Run[] {
  const fields = fieldsJson ? (JSON.parse(fieldsJson) as Omit<Run, "steps">[]) : [];
  const runs: Run[] = fields.map((f) => ({ ...f, steps: [] }));
  for (const row of rows) {
    while (runs.length <= row.run_index) runs.push({ seed: row.seed, steps: [] });
    const run = runs[row.run_index]!;
    run.seed = row.seed;
    run.steps.push(joinStep(row));
  }
  if (!fieldsJson) {
    for (const p of parts) {
      while (runs.length <= p.run_index) runs.push({ seed: p.seed, steps: [] });
      Object.assign(runs[p.run_index]!, JSON.parse(p.fields) as Omit<Run, "steps" | "seed">);
    }
  }
  // A run's fields in the result's order: seed, steps, then the rest (stopped, ...).
  return runs.map(({ seed, steps, ...rest }) => ({ seed, steps, ...rest }));
}
