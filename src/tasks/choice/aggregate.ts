// Means over contexts with 95% percentile bootstrap intervals (resampling contexts), and the core's aggregate of a
// group of context records. Only scored, on-format contexts enter; the others are counted in `flagged`.

import { makeRng } from "../../rng.ts";
import type { VerdictType } from "../../types.ts";
import type { ChoiceAggregate, ContextRecord, Estimate } from "./types.ts";

/** The mean of `values` with the 2.5% and 97.5% percentiles of B bootstrap means (seeded); null mean when empty. */
export function bootstrapMean(values: readonly number[], B: number, seedKey: string): Estimate {
  const n = values.length;
  if (n === 0) return { mean: null, ci: null, n: 0 };
  const m = values.reduce((a, b) => a + b, 0) / n;
  if (B <= 0 || n === 1) return { mean: m, ci: [m, m], n };
  const rng = makeRng(`bootstrap/${seedKey}`);
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rng() * n)]!;
    means[b] = s / n;
  }
  means.sort();
  const q = (p: number) => means[Math.min(B - 1, Math.max(0, Math.round(p * (B - 1))))]!;
  return { mean: m, ci: [q(0.025), q(0.975)], n };
}

/** Records that enter the aggregates: scored and on-format. */
export const measured = (records: readonly ContextRecord[]) => records.filter((r) => r.ptoken !== null && !r.off_format);

/** The core's aggregate over the measured records of `records` (bootstrap B, seeded by `seedKey`). */
export function aggregateRecords(records: readonly ContextRecord[], B: number, seedKey: string): ChoiceAggregate {
  const ok = measured(records);
  const est = (name: string, pick: (r: ContextRecord) => number | null | undefined) =>
    bootstrapMean(ok.map(pick).filter((v): v is number => typeof v === "number" && Number.isFinite(v)), B, `${seedKey}/${name}`);
  const verdicts: Partial<Record<VerdictType, number>> = {};
  const decisions: Partial<Record<VerdictType, number>> = {};
  for (const r of ok) {
    if (!r.verdict) continue;
    verdicts[r.verdict.type] = (verdicts[r.verdict.type] ?? 0) + 1 / ok.length;
    const d = r.verdict.decision ?? r.verdict.type;
    decisions[d] = (decisions[d] ?? 0) + 1 / ok.length;
  }
  return {
    contexts: ok.length,
    tv: est("tv", (r) => r.tv),
    kl: est("kl", (r) => r.kl),
    atvd: est("atvd", (r) => r.metrics?.atvd),
    volatility: est("volatility", (r) => r.metrics?.volatility),
    concentration: est("concentration", (r) => r.metrics?.concentration),
    leak: est("leak", (r) => r.metrics?.leak),
    order_tv: est("order_tv", (r) => r.order_tv),
    verdicts,
    decisions,
  };
}
