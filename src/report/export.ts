// Export of a results directory: CSV (one row per step, or per run with --level runs) or JSON Lines (one step object
// per line, or one result JSON per run).

import { exportMetrics, metricValue } from "../metrics/index.ts";
import type { StoredRun } from "../store/read.ts";
import { targetLabel } from "../store/read.ts";

export type ExportFormat = "csv" | "jsonl";
export type ExportLevel = "steps" | "runs";


/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvLine = (cells: unknown[]) => cells.map(csvField).join(",") + "\r\n";

function runColumns(r: StoredRun) {
  return {
    run_id: r.id,
    status: r.status,
    model: r.model,
    target: targetLabel(r),
    protocol: r.protocol,
    temperature: r.settings?.temperature ?? null,
    base_seed: r.settings?.seed ?? null,
  };
}

/** Yields the export chunk by chunk (a line at a time), so large stores stream. */
export function* exportLines(runs: StoredRun[], format: ExportFormat, level: ExportLevel): Generator<string> {
  if (level === "runs") {
    if (format === "jsonl") {
      for (const r of runs) yield JSON.stringify(r) + "\n";
      return;
    }
    // The metric columns are the registry's (src/metrics/registry.ts), in its order; a metric a stored run predates is empty.
    const metrics = exportMetrics();
    yield csvLine(["run_id", "status", "model", "target", "protocol", "temperature", "base_seed", "runs", "steps", "verdict", ...metrics.map((d) => d.name), "atvd_ci_lo", "atvd_ci_hi", "volatility_ci_lo", "volatility_ci_hi", "support", "p_task"]);
    for (const r of runs) {
      const c = runColumns(r);
      const ci = r.verdict?.ci;
      yield csvLine([...Object.values(c), r.runs.length, r.progress.steps, r.verdict?.type ?? null, ...metrics.map((d) => metricValue(r.metrics, d) ?? null), ci?.atvd[0], ci?.atvd[1], ci?.volatility[0], ci?.volatility[1], r.target.support, r.target.probs]);
    }
    return;
  }
  if (format === "csv") yield csvLine(["run_id", "status", "model", "target", "protocol", "temperature", "base_seed", "run", "seed", "t", "sample", "leak", "unknown", "raw", "support", "ptoken"]);
  for (const r of runs) {
    const c = runColumns(r);
    for (const [i, run] of r.runs.entries()) {
      for (const s of run.steps) {
        if (format === "csv") yield csvLine([...Object.values(c), i, run.seed, s.t, s.sample, s.leak, s.unknown ?? null, s.raw ?? null, r.target.support, s.ptoken]);
        else yield JSON.stringify({ ...c, run: i, seed: run.seed, t: s.t, sample: s.sample, leak: s.leak, unknown: s.unknown ?? null, raw: s.raw ?? null, support: r.target.support, ptoken: s.ptoken }) + "\n";
      }
    }
  }
}
