// Mass a step could not resolve (`unknown`: tokenisation paths pruned below --prune, or answers outside a remote
// server's top-k) leaves each step's P_token known only up to that mass. This bounds how far the rule metrics (and
// the mean leak) can move and makes the verdict "uncertain" when the bound lets another verdict hold
// (docs/classification.md, "Unresolved mass").
import type { Run, Verdict } from "../types.ts";
import { checkBox, decide, type Box, type Estimates } from "./rules.ts";
import type { Thresholds } from "./thresholds.ts";

/** Below this largest per-step unknown mass the bound is not worth a sentence (unless it changes the verdict). */
const NOTE_FLOOR = 1e-4;

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

export interface MetricBounds {
  atvd: number;
  volatility: number;
  concentration: number;
  marginal_tvd: number;
  /** Mean over runs of the per-run mean unknown mass: how far the mean leak could rise. */
  leak: number;
  maxUnknown: number;
}

/** Largest change, over runs (mean of per-run bounds), of the four rule metrics that the unknown mass allows. */
export function metricBounds(runs: readonly Run[]): MetricBounds {
  const done = runs.filter((r) => r.steps.length > 0);
  let atvd = 0;
  let vol = 0;
  let leak = 0;
  let maxUnknown = 0;
  for (const run of done) {
    const d = run.steps.map(stepBound);
    for (const s of run.steps) maxUnknown = Math.max(maxUnknown, s.unknown ?? 0);
    leak += run.steps.reduce((a, s) => a + (s.unknown ?? 0), 0) / run.steps.length;
    atvd += d.reduce((a, b) => a + b, 0) / d.length;
    vol += d.length > 1 ? d.slice(1).reduce((a, b, i) => a + b + d[i]!, 0) / (d.length - 1) : 0;
  }
  const n = Math.max(1, done.length);
  // concentration (max_i q_t(i)) and marginal TV move at most as much as the per-step TV does.
  return { atvd: atvd / n, volatility: vol / n, concentration: atvd / n, marginal_tvd: atvd / n, leak: leak / n, maxUnknown };
}

/** Where the unresolved mass came from, for the sentence: a remote server's top-k, a top-n list (--n-probs), or pruned paths. */
function source(runs: readonly Run[]): string {
  const topK = runs.some((r) => r.steps.some((s) => s.outside !== undefined || s.entropy_full_bounds !== undefined));
  if (topK) return "top-k truncation: up to {u} of a step's mass was not shown by the server";
  // entropy_full is null exactly when the engine listed only part of the vocabulary (llama-server with --n-probs).
  const partial = runs.some((r) => r.steps.some((s) => s.entropy_full === null));
  if (partial) return "n_probs truncation: up to {u} of a step's mass was on answer tokens the server did not list (--n-probs)";
  return "pruned paths: up to {u} of a step's mass was on tokenisation paths below --prune, not followed to an answer";
}

/**
 * The verdict, made "uncertain" (with the reason) when the unknown mass lets the metrics cross a rule's threshold,
 * or lets the mean leak cross the off-format threshold. `est` are the point estimates the verdict was decided on.
 */
export function boundVerdict(verdict: Verdict, est: Estimates & { leak: number }, runs: readonly Run[], th: Thresholds): Verdict {
  const b = metricBounds(runs);
  if (!(b.maxUnknown > 0)) return verdict;
  const clip = (x: number, d: number): [number, number] => [Math.max(0, x - d), Math.min(1, x + d)];
  const box: Box = { atvd: clip(est.atvd, b.atvd), volatility: clip(est.volatility, b.volatility), concentration: clip(est.concentration, b.concentration), marginal_tvd: clip(est.marginal_tvd, b.marginal_tvd) };
  const span = (k: keyof typeof box) => `${k} ${box[k][0].toFixed(3)}–${box[k][1].toFixed(3)}`;
  const pct = `${(b.maxUnknown * 100).toFixed(b.maxUnknown < 1e-3 ? 3 : 1)}%`;
  const from = source(runs);
  const fix = from.startsWith("top-k") ? "use a server with exact scoring, docs/backends.md" : from.startsWith("n_probs") ? "raise --n-probs, or drop it for exact scoring" : "lower --prune, e.g. --prune 0, to follow them";
  if (verdict.type === "off-format") return verdict; // the visible leak alone exceeds the threshold; unknown mass only adds to it
  // The mean leak could rise by the mean unknown mass: off-format is within reach.
  const leakHi = est.leak + b.leak;
  const offFormat = leakHi > th.off_format_leak;
  const decision = decide(est, th);
  const check = checkBox(decision, box, th);
  const note = `${source(runs).replace("{u}", pct)}, so ${span("atvd")}, ${span("volatility")}, ${span("concentration")}, leak ${est.leak.toFixed(3)}–${Math.min(1, leakHi).toFixed(3)}`;
  if (check.stable && !offFormat) {
    return b.maxUnknown < NOTE_FLOOR ? verdict : { ...verdict, reasons: [...verdict.reasons, `${note}: the verdict holds over that whole range`] };
  }
  const could = [...check.reachable, ...(check.straddled.length ? [`not ${decision}`] : []), ...(offFormat ? ["off-format"] : [])].join(" or ");
  return { ...verdict, type: "uncertain", reasons: [...verdict.reasons, `uncertain: ${note}: within that range the verdict could be ${could} (${fix})`] };
}
