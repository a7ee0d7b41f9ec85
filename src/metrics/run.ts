// Per-run metrics from per-step P_token, and their aggregation over runs (ARCHITECTURE.md "Metric definitions").
import { InputError } from "../errors.ts";
import type { Metrics, Run, Target } from "../types.ts";
import { entropy, mean, meanVector, tv } from "./basic.ts";
import { sampleStats } from "./samples.ts";
import { stepAnswer, valueMetrics, type ValueTestOptions } from "./values.ts";

/** How far a step's P_token may sum from 1 (it is renormalised over the support upstream). */
export const PTOKEN_SUM_TOLERANCE = 1e-6;

export interface StepInput {
  ptoken: readonly number[];
  leak: number;
}

export interface RunMetrics {
  atvd: number;
  marginal_tvd: number;
  volatility: number;
  concentration: number;
  entropy_ratio: number | null;
  e_score: number;
  leak: number;
}

/**
 * The P_token metrics of ONE run. Volatility is 0 for a single step (nothing to compare); entropy_ratio is null when
 * H(p) = 0 (point-mass target). Throws InputError on an empty run or a malformed step.
 */
export function runMetrics(target: Target, steps: readonly StepInput[]): RunMetrics {
  if (steps.length === 0) throw new InputError(`run has no steps; metrics need at least one step`);
  steps.forEach((s, t) => checkStep(target, s, t));
  const p = target.probs;
  const qs = steps.map((s) => s.ptoken);
  const atvd = mean(qs.map((q) => tv(q, p)));
  const hp = entropy(p);
  const volatility = qs.length < 2 ? 0 : mean(qs.slice(1).map((q, i) => tv(q, qs[i]!)));
  return {
    atvd,
    marginal_tvd: tv(meanVector(qs), p),
    volatility,
    concentration: mean(qs.map((q) => Math.max(...q))),
    entropy_ratio: hp === 0 ? null : mean(qs.map((q) => entropy(q))) / hp,
    e_score: 1 - atvd,
    leak: mean(steps.map((s) => s.leak)),
  };
}

/**
 * All metrics of a set of runs: means over runs of the per-run values; sample_tvd, chi2, chi2_p and w1 pool every
 * run's samples (null samples ignored). Throws InputError when there are no runs or a run is malformed.
 */
export function computeMetrics(target: Target, runs: readonly Run[], opts: ValueTestOptions = {}): Metrics {
  if (runs.length === 0) throw new InputError(`no runs; metrics need at least one run with at least one step`);
  const per = runs.map((r, i) => {
    try {
      return runMetrics(target, r.steps);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`run #${i + 1} (seed ${r.seed}): ${e.message}`);
      throw e;
    }
  });
  const avg = (f: (m: RunMetrics) => number): number => mean(per.map(f));
  // A free-form number (batch answers "0.37") counts in the binned tests as the answer it rounds to.
  const samples = sampleStats(target, runs.flatMap((r) => r.steps.map((s) => stepAnswer(target, s))));
  const ratios = per.map((m) => m.entropy_ratio);
  return {
    atvd: avg((m) => m.atvd),
    marginal_tvd: avg((m) => m.marginal_tvd),
    sample_tvd: samples.sample_tvd,
    volatility: avg((m) => m.volatility),
    concentration: avg((m) => m.concentration),
    // null for every run or none: it depends only on the target.
    entropy_ratio: ratios.some((r) => r === null) ? null : mean(ratios as number[]),
    e_score: avg((m) => m.e_score),
    leak: avg((m) => m.leak),
    chi2: samples.chi2,
    chi2_p: samples.chi2_p,
    w1: samples.w1,
    unparsed: countUnparsed(runs),
    ...valueMetrics(target, runs, opts),
  };
}

function checkStep(target: Target, s: StepInput, t: number): void {
  const k = target.support.length;
  if (s.ptoken.length !== k) {
    throw new InputError(`step t=${t} has ${s.ptoken.length} probabilities, expected ${k} (one per answer of the target, in support order)`);
  }
  let sum = 0;
  for (const [i, q] of s.ptoken.entries()) {
    if (!Number.isFinite(q) || q < 0) {
      throw new InputError(`step t=${t}: probability of ${JSON.stringify(target.support[i])} is ${q}; P_token values must be finite and ≥ 0`);
    }
    sum += q;
  }
  // Sum 0 is accepted: every bit of mass fell outside the support (it shows up as leak).
  if (sum !== 0 && Math.abs(sum - 1) > PTOKEN_SUM_TOLERANCE) {
    throw new InputError(`step t=${t}: P_token sums to ${Number(sum.toPrecision(12))}, expected 1; renormalise it over the support`);
  }
  if (!Number.isFinite(s.leak) || s.leak < 0 || s.leak > 1 + PTOKEN_SUM_TOLERANCE) {
    throw new InputError(`step t=${t}: leak is ${s.leak}; leak is a probability mass in [0, 1]`);
  }
}

/** Steps whose written answer did not parse: a null sample with its raw text (a null sample alone was not recorded, e.g. --ptoken). */
export function countUnparsed(runs: readonly Run[]): number {
  return runs.reduce((n, r) => n + r.steps.filter((s) => s.sample === null && typeof s.raw === "string").length, 0);
}
