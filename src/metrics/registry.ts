// The metric registry: every metric a measurement gets, in one explicit list. The result JSON (`computeMetrics`), the
// run summary table, `ptalign export --level runs`, the report's comparison table and the verdict's bootstrap loop
// over it. To add a metric: write src/metrics/NAME.ts (`export const x = defineMetric({...})`, see metric.ts) and
// append it to METRICS below (docs/metrics.md, "Adding a metric").
//
// An explicit list rather than self-registration on import: the order of the list is the order of the JSON keys and
// of the export columns (a contract), it is visible in one place, and no reader can see a half-filled registry
// because some module that registers a metric happened not to be imported yet.

import { alignmentScore } from "./alignmentScore.ts";
import { BUILTIN_METRICS } from "./builtin.ts";
import { chi2MinExpected, chi2SmallCells } from "./chi2Cells.ts";
import { hamming } from "./hamming.ts";
import type { MetricDef } from "./metric.ts";

export const METRICS: readonly MetricDef[] = [...BUILTIN_METRICS, hamming, chi2MinExpected, chi2SmallCells, alignmentScore];

{
  const seen = new Set<string>();
  for (const m of METRICS) {
    if (seen.has(m.name)) throw new Error(`metric ${m.name} is registered twice (src/metrics/registry.ts)`);
    seen.add(m.name);
  }
  // An alias and the metric it stands for name each other, and both are registered (the alias is still written).
  for (const m of METRICS) {
    if (m.aliasOf && !METRICS.some((t) => t.name === m.aliasOf && t.formerly?.includes(m.name))) throw new Error(`metric ${m.name} is an alias of ${m.aliasOf}, which does not list it in formerly (src/metrics/registry.ts)`);
  }
}

/** The metric registered under this name, if any. */
export function metricByName(name: string): MetricDef | undefined {
  return METRICS.find((m) => m.name === name);
}

/** Metrics with a row in the run summary, in rank order. */
export function summaryMetrics(): MetricDef[] {
  return METRICS.filter((m) => m.summary).sort((a, b) => a.summary!.rank - b.summary!.rank);
}

/** Metrics with a column in the report's comparison table, in rank order. */
export function htmlMetrics(): MetricDef[] {
  return METRICS.filter((m) => m.html).sort((a, b) => a.html!.rank - b.html!.rank);
}

/** The runs-level export columns, in registry order. */
export function exportMetrics(): MetricDef[] {
  return METRICS.filter((m) => m.export);
}

/** Metrics that get a bootstrap interval (the verdict rules' metrics), in registry order. */
export function bootstrapMetrics(): MetricDef[] {
  return METRICS.filter((m) => m.bootstrap);
}
