// Per-run metrics from per-step P_token (docs/metrics.md); the aggregation over runs is the registry's (compute.ts).
import { InputError } from "../errors.ts";
import type { Run, Target } from "../types.ts";
import { entropy, mean, meanVector, tv } from "./basic.ts";

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

/** mean_t TV(q_t, p). */
export function atvdOf(target: Target, steps: readonly StepInput[]): number {
  const p = target.probs;
  return mean(steps.map((s) => tv(s.ptoken, p)));
}

/** TV(mean_t q_t, p). */
export function marginalTvdOf(target: Target, steps: readonly StepInput[]): number {
  return tv(meanVector(steps.map((s) => s.ptoken)), target.probs);
}

/** mean_t TV(q_t, q_t−1); 0 for a single step (nothing to compare). */
export function volatilityOf(_target: Target, steps: readonly StepInput[]): number {
  const qs = steps.map((s) => s.ptoken);
  return qs.length < 2 ? 0 : mean(qs.slice(1).map((q, i) => tv(q, qs[i]!)));
}

/** mean_t max_i q_t(i). */
export function concentrationOf(_target: Target, steps: readonly StepInput[]): number {
  return mean(steps.map((s) => Math.max(...s.ptoken)));
}

/**
 * The P_token metrics of ONE run. Volatility is 0 for a single step (nothing to compare); entropy_ratio is null when
 * H(p) = 0 (point-mass target). Throws InputError on an empty run or a malformed step.
 */
export function runMetrics(target: Target, steps: readonly StepInput[]): RunMetrics {
  checkSteps(target, steps);
  const p = target.probs;
  const qs = steps.map((s) => s.ptoken);
  const atvd = atvdOf(target, steps);
  const hp = entropy(p);
  return {
    atvd,
    marginal_tvd: marginalTvdOf(target, steps),
    volatility: volatilityOf(target, steps),
    concentration: concentrationOf(target, steps),
    entropy_ratio: hp === 0 ? null : mean(qs.map((q) => entropy(q))) / hp,
    e_score: 1 - atvd,
    leak: mean(steps.map((s) => s.leak)),
  };
}

/** Throws InputError on an empty run or a malformed step (wrong length, negative, not summing to 1, bad leak). */
export function checkSteps(target: Target, steps: readonly StepInput[]): void {
  if (steps.length === 0) throw new InputError(`run has no steps; metrics need at least one step`);
  steps.forEach((s, t) => checkStep(target, s, t));
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
