// Measurements read for display (ls, export, report, view, analyze, advise): the store's reader, with metrics and a
// verdict computed from the steps stored so far for a measurement that is still running or failed part way (the
// store sits below the metrics and cannot compute them).

import { summarise } from "../run.ts";
import { loadStored, type LoadOptions, type StoredRun } from "../store/read.ts";
import { recordedSeed } from "../config/recorded.ts";

/** loadStored, with fillPartial applied to each measurement that has no stored metrics. */
export function loadRuns(dir: string, opts: Omit<LoadOptions, "complete"> = {}): Promise<StoredRun[]> {
  return loadStored(dir, { ...opts, complete: fillPartial });
}

/** While a study runs: metrics and verdict from the runs with at least two steps so far (volatility needs two). */
export function fillPartial(run: StoredRun): void {
  const runs = run.runs.filter((r) => r.steps.length >= 2);
  if (runs.length === 0) return;
  try {
    const s = summarise(run.model, run.protocol, run.target, runs, run.settings ?? {}, undefined, recordedSeed(run.settings) ?? 0);
    run.metrics = s.metrics;
    run.verdict = s.verdict;
  } catch {
    /* not enough to summarise yet */
  }
}
