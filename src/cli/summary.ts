// The run summary `ptalign run` / `ptalign metrics` print: what was measured, one row per registered metric (the
// metric registry, src/metrics/registry.ts, decides rows, order and meanings), the verdict and its reasons.

import { formatValue, metricByName, metricValue, summaryMetrics } from "../metrics/index.ts";
import type { Result } from "../types.ts";
import { engineHardware } from "../config/recorded.ts";
import { abbreviate, fmt, table } from "./common.ts";
import { continuousRows } from "./targetFlags.ts";

export function summaryText(result: Result, file?: string): string {
  const m = result.metrics;
  const v = result.verdict;
  const rows: [string, string, string][] = summaryMetrics()
    .filter((d) => d.summary!.show?.(m, result.target) ?? true)
    .map((d) => [d.name, formatValue(metricValue(m, d) ?? null, d.format.digits), d.summary!.meaning?.(m) ?? d.meaning]);
  // The target's tail mass and the peers' tests are not metrics of the registry: their rows follow.
  rows.push(...continuousRows(result.target, m).filter(([k]) => !metricByName(k)).map(([k, val, meaning]): [string, string, string] => [k, fmt(val), meaning]));
  const steps = result.runs.reduce((n, r) => n + r.steps.length, 0);
  const temperature = result.settings?.temperature;
  return [
    `model     ${abbreviate(result.model)}`,
    `protocol  ${result.protocol}, ${result.runs.length} runs, ${steps} steps${temperature === undefined ? "" : `, temperature ${String(temperature)}`}`,
    ...engineLine(result.settings),
    "",
    table(["metric", "value", "meaning"], rows),
    "",
    `verdict   ${v.type}  (atvd 95% CI ${fmt(v.ci.atvd[0])}–${fmt(v.ci.atvd[1])}, volatility ${fmt(v.ci.volatility[0])}–${fmt(v.ci.volatility[1])})`,
    ...v.reasons.map((r) => `          ${r}`),
    ...(file ? ["", `saved     ${file}`] : []),
  ].join("\n");
}

/** The embedded engine's hardware: device, GPU layers, threads, parallel sequences (settings.engine). */
function engineLine(settings: Result["settings"]): string[] {
  const e = engineHardware(settings);
  if (!e) return [];
  return [`engine    ${e.device}, ${e.gpu_layers} GPU layers, ${e.threads} thread${e.threads === 1 ? "" : "s"}, ${e.parallel} parallel sequence${e.parallel === 1 ? "" : "s"}`];
}
