// When a remote server shows only its top-k log-probabilities, each step's P_token is known up to the mass it did
// not show (`unknown`). This bounds how far the rule metrics can move and turns the verdict "uncertain" when that
// bound could change it (docs/backends.md).
import { checkBox, decide, resolveThresholds, type Box, type Thresholds } from "../classify/index.ts";
import type { Metrics, Run, Verdict } from "../types.ts";

/**
 * Per-step bound on TV(q_t, true q_t): the renormalised q_t = raw / S can move by at most u / (S + u) when up to u
 * more mass lands on some options (S = 1 − leak − u, the visible mass on the options).
 */
export function stepBound(step: { leak: number; unknown?: number }): number {
  const u = step.unknown ?? 0;
  if (!(u > 0)) return 0;
  const s = Math.max(0, 1 - step.leak - u);
  return s + u > 0 ? Math.min(1, u / (s + u)) : 1;
}

/** Largest change, over runs (mean of per-run bounds), of the four rule metrics that the unknown mass allows. */
export function metricBounds(runs: readonly Run[]): { atvd: number; volatility: number; concentration: number; marginal_tvd: number; maxUnknown: number } {
  const done = runs.filter((r) => r.steps.length > 0);
  let atvd = 0;
  let vol = 0;
  let maxUnknown = 0;
  for (const run of done) {
    const d = run.steps.map(stepBound);
    for (const s of run.steps) maxUnknown = Math.max(maxUnknown, s.unknown ?? 0);
    atvd += d.reduce((a, b) => a + b, 0) / d.length;
    vol += d.length > 1 ? d.slice(1).reduce((a, b, i) => a + b + d[i]!, 0) / (d.length - 1) : 0;
  }
  const n = Math.max(1, done.length);
  // concentration (max_i q_t(i)) and marginal TV move at most as much as the per-step TV does.
  return { atvd: atvd / n, volatility: vol / n, concentration: atvd / n, marginal_tvd: atvd / n, maxUnknown };
}

/** The verdict, made "uncertain" (with the reason) when the top-k bound lets the metrics cross a rule's threshold. */
export function boundVerdict(verdict: Verdict, metrics: Metrics, runs: readonly Run[], overrides?: Partial<Thresholds>): Verdict {
  const b = metricBounds(runs);
  if (b.maxUnknown < 1e-4) return verdict; // pruning residue of exact scoring: cannot matter
  const th = resolveThresholds(overrides);
  const clip = (x: number, d: number): [number, number] => [Math.max(0, x - d), Math.min(1, x + d)];
  const est = { atvd: metrics.atvd, volatility: metrics.volatility, concentration: metrics.concentration, marginal_tvd: metrics.marginal_tvd };
  const box: Box = { atvd: clip(est.atvd, b.atvd), volatility: clip(est.volatility, b.volatility), concentration: clip(est.concentration, b.concentration), marginal_tvd: clip(est.marginal_tvd, b.marginal_tvd) };
  const decision = decide(est, th);
  const check = checkBox(decision, box, th);
  const span = (k: keyof typeof box) => `${k} ${box[k][0].toFixed(3)}–${box[k][1].toFixed(3)}`;
  const note = `top-k truncation: up to ${(b.maxUnknown * 100).toFixed(1)}% of a step's mass was not shown by the server, so ${span("atvd")}, ${span("volatility")}, ${span("concentration")}`;
  if (check.stable) return { ...verdict, reasons: [...verdict.reasons, `${note}: the verdict holds over that whole range`] };
  const could = [...check.reachable, ...(check.straddled.length ? [`not ${decision}`] : [])].join(" or ");
  return { ...verdict, type: "uncertain", reasons: [...verdict.reasons, `${note}: within that range the verdict could be ${could || "different"} (use a server with exact scoring, docs/backends.md)`] };
}
