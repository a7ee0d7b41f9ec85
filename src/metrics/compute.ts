// All metrics of one measurement: the registry's metrics in registry order (the JSON key order), then the peers'
// tests (an object, not a number: --peer-tests).

import { InputError } from "../errors.ts";
import type { Metrics, Run, Target } from "../types.ts";
import { metricContext } from "./metric.ts";
import { METRICS } from "./registry.ts";
import type { ValueTestOptions } from "./values.ts";

/**
 * All metrics of a set of runs: means over runs of the per-run values; sample_tvd, chi2, chi2_p and w1 pool every
 * run's samples (null samples ignored). Throws InputError when there are no runs or a run is malformed.
 */
export function computeMetrics(target: Target, runs: readonly Run[], opts: ValueTestOptions = {}): Metrics {
  if (runs.length === 0) throw new InputError(`no runs; metrics need at least one run with at least one step`);
  const ctx = metricContext(target, runs, opts);
  // Run validation first, whatever the first registered metric needs.
  ctx.perRun();
  const out: Record<string, unknown> = {};
  for (const m of METRICS) {
    const v = m.compute(ctx);
    if (v !== undefined) out[m.name] = v;
  }
  const peers = ctx.values().peers;
  if (peers) out.peers = peers;
  // Every key of Metrics is filled by a registered metric (test/metrics/registry.test.ts checks the names).
  return out as unknown as Metrics;
}
