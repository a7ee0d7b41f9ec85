// One query's numbers from its n rankings: the expected exposure ε of each document (and the realised one), the
// target ε*, EE-L/D/R, nDCG@k, and the D/E metrics of every rank — each rank has its own P_task (uniform over the
// remaining documents of the best remaining grade), so atvd, concentration, volatility and marginal_tvd are read
// rank by rank and the verdict rules of the sampling runs (src/classify/rules.ts) apply to them.

import { decide, type Decision, type Estimates } from "../../classify/rules.ts";
import { DEFAULT_THRESHOLDS } from "../../classify/thresholds.ts";
import { tv } from "../../metrics/basic.ts";
import { expectedExposureMetrics, ndcgAt, normalisedExposure, rankExposures, targetExposure, targetStep, type BrowsingModel, type ExposureMetrics } from "./exposure.ts";
import type { RankStep } from "./rank.ts";

export type StepVerdict = Decision | "off-format" | "uncertain";

export interface RankMetrics extends Estimates {
  rank: number;
  leak: number;
  /** Mean number of documents P_task spreads over at this rank (1: the target names one document). */
  target_support: number;
  /** The rules at this rank's point estimates ("uncertain" with one ranking: no volatility across rankings). */
  verdict: StepVerdict;
}

export interface QueryMetrics extends ExposureMetrics {
  /** ε: expected exposure per pool document, the one EE-L/D/R are computed from (see exposure_method). */
  exposure: number[];
  /** "exact": every ranking prefix read (--exposure exact); "rao-blackwell": estimated from the n rankings. */
  exposure_method: "exact" | "rao-blackwell";
  /** ε from the ranks the documents were drawn at (the plain Monte-Carlo estimate; noisier). */
  exposure_sampled: number[];
  target_exposure: number[];
  normalised: { ee_r: number; ee_d: number };
  ndcg: Record<string, { mean: number; sd: number; min: number; max: number } | null>;
  estimates: Estimates & { leak: number };
  verdict: StepVerdict;
  by_rank: RankMetrics[];
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const sd = (xs: readonly number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** A distribution over `remaining` spread onto the whole pool (0 for documents already shown). */
function onPool(n: number, remaining: readonly number[], p: readonly number[]): number[] {
  const out = new Array<number>(n).fill(0);
  remaining.forEach((i, k) => (out[i] = p[k]!));
  return out;
}

/**
 * ε by conditioning on each sampled history (Rao–Blackwell): rank k's exposure e_k given the documents above it,
 * times P_token(d) at that rank, summed over ranks and averaged over the rankings. Unbiased for the model's
 * expected exposure (E[1{π(k) = d} e_k | history] = P_token,k(d) e_k): its error comes only from which histories
 * were drawn, not from the draw at each rank, so it is exact for a model that always ranks alike.
 */
export function exposureOf(n: number, grades: readonly number[], rankings: readonly (readonly RankStep[])[], b: BrowsingModel): { rb: number[]; sampled: number[] } {
  const gmax = Math.max(0, ...grades);
  const rb = new Array<number>(n).fill(0);
  const sampled = new Array<number>(n).fill(0);
  for (const steps of rankings) {
    const order = [...steps.map((s) => s.pick), steps.at(-1)!.remaining.find((i) => i !== steps.at(-1)!.pick)!];
    const e = rankExposures(order.map((i) => grades[i]!), b, gmax);
    steps.forEach((s, k) => s.remaining.forEach((i, j) => (rb[i]! += e[k]! * s.ptoken[j]!)));
    // The last rank follows from the draw before it: conditioned on that step too, each of the two documents left
    // gets the last rank when the other is drawn (its exposure depends on the drawn grade under the cascade).
    const last = steps.at(-1)!;
    const before = e[order.length - 2]!; // the last step has two documents left
    last.remaining.forEach((i, j) => {
      const other = last.remaining[1 - j]!;
      rb[other]! += last.ptoken[j]! * rankExposures([grades[i]!, grades[other]!], b, gmax)[1]! * before;
    });
    order.forEach((i, k) => (sampled[i]! += e[k]!));
  }
  return { rb: rb.map((x) => x / rankings.length), sampled: sampled.map((x) => x / rankings.length) };
}

function verdictOf(e: Estimates & { leak: number }, runs: number): StepVerdict {
  if (e.leak > DEFAULT_THRESHOLDS.off_format_leak) return "off-format";
  if (runs < 2) return "uncertain";
  return decide(e, DEFAULT_THRESHOLDS);
}

/**
 * The D/E metrics at each rank k over the rankings r: atvd = mean TV(P_token, P_task); concentration = mean max
 * P_token; volatility = mean over consecutive rankings of TV(P_token_r, P_token_r+1) − TV(P_task_r, P_task_r+1)
 * on the pool, floored at 0 (what the model's bets change beyond what their differing histories change in the
 * target); marginal_tvd = TV between the documents drawn at rank k and the mean P_task at rank k.
 */
export function rankMetrics(n: number, grades: readonly number[], rankings: readonly (readonly RankStep[])[]): RankMetrics[] {
  const depth = Math.min(...rankings.map((r) => r.length));
  const out: RankMetrics[] = [];
  for (let k = 0; k < depth; k++) {
    const at = rankings.map((r) => r[k]!);
    const task = at.map((s) => targetStep(grades, s.remaining));
    const q = at.map((s) => onPool(n, s.remaining, s.ptoken));
    const p = at.map((s, r) => onPool(n, s.remaining, task[r]!));
    const vol = at.slice(1).map((_, r) => Math.max(0, tv(q[r]!, q[r + 1]!) - tv(p[r]!, p[r + 1]!)));
    const drawn = new Array<number>(n).fill(0);
    for (const s of at) drawn[s.pick]! += 1 / at.length;
    const meanTask = p[0]!.map((_, i) => mean(p.map((x) => x[i]!)));
    const e = {
      atvd: mean(at.map((s, r) => tv(s.ptoken, task[r]!))),
      concentration: mean(at.map((s) => Math.max(...s.ptoken))),
      volatility: mean(vol),
      marginal_tvd: tv(drawn, meanTask),
      leak: mean(at.map((s) => s.leak)),
    };
    out.push({ rank: k + 1, ...e, target_support: mean(task.map((p) => p.filter((x) => x > 0).length)), verdict: verdictOf(e, at.length) });
  }
  return out;
}

export function queryMetrics(grades: readonly number[], rankings: readonly (readonly RankStep[])[], b: BrowsingModel, ks: readonly number[], exact?: readonly number[]): QueryMetrics {
  const n = grades.length;
  const estimated = exposureOf(n, grades, rankings, b);
  const rb = exact ? [...exact] : estimated.rb;
  const sampled = estimated.sampled;
  const target = targetExposure(grades, b);
  const ee = expectedExposureMetrics(rb, target);
  const ndcg: QueryMetrics["ndcg"] = {};
  for (const k of ks) {
    const vals = rankings.map((steps) => {
      const order = [...steps.map((s) => s.pick), steps.at(-1)!.remaining.find((i) => i !== steps.at(-1)!.pick)!];
      return ndcgAt(order.map((i) => grades[i]!), grades, k);
    });
    const xs = vals.filter((v): v is number => v !== null);
    ndcg[String(k)] = xs.length ? { mean: mean(xs), sd: sd(xs), min: Math.min(...xs), max: Math.max(...xs) } : null;
  }
  const by_rank = rankMetrics(n, grades, rankings);
  // The query's estimates weigh alike the ranks where the target spreads over several documents: where it names one
  // document, a D ranker (betting on a draw from P_task) and an E ranker (P_token ≈ P_task) bet the same, so those
  // ranks cannot tell them apart and would only dilute the verdict. With no such rank, every rank counts.
  const spread = by_rank.filter((r) => r.target_support > 1);
  const used = spread.length ? spread : by_rank;
  const estimates = {
    atvd: mean(used.map((r) => r.atvd)),
    concentration: mean(used.map((r) => r.concentration)),
    volatility: mean(used.map((r) => r.volatility)),
    marginal_tvd: mean(used.map((r) => r.marginal_tvd)),
    leak: mean(used.map((r) => r.leak)),
  };
  return { exposure: rb, exposure_method: exact ? "exact" : "rao-blackwell", exposure_sampled: sampled, target_exposure: target, ...ee, normalised: normalisedExposure(ee, target, grades, b), ndcg, estimates, verdict: verdictOf(estimates, rankings.length), by_rank };
}
