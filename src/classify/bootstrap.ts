// Bootstrap 95% percentile intervals for the rule metrics.
//  - Several runs: resample runs with replacement, recompute the mean of the per-run metrics.
//  - One run: moving-block bootstrap over that run's steps (blocks of consecutive steps keep the short-range
//    dependence that a sequential protocol creates). Block length L = max(2, round(T^(1/3))), at most T.
//    atvd, concentration and marginal_tvd are recomputed on the resampled steps; volatility is the mean of the
//    step-to-step transitions inside the blocks only, so no artificial transition is created where two blocks meet.
// Which metrics get intervals, and how one run's value is computed, is the metric registry's (`bootstrap` in
// src/metrics/builtin.ts): every metric the verdict rules read must be bootstrapped there.

import { bootstrapMetrics, checkSteps, type BootstrapSpec } from "../metrics/index.ts";
import type { Rng } from "../rng.ts";
import type { Step, Target } from "../types.ts";
import { RULES, type Box, type Estimates, type Interval, type MetricName } from "./rules.ts";

/** The bootstrapped metrics in the order the rules first read them (the order of the intervals in the reasons). */
export const METRIC_NAMES: readonly MetricName[] = [...new Set(RULES.flatMap((r) => r.conditions.map((c) => c.metric)))];

const SPECS: ReadonlyMap<MetricName, BootstrapSpec> = (() => {
  const specs = new Map(bootstrapMetrics().map((d) => [d.name, d.bootstrap!]));
  const missing = METRIC_NAMES.filter((k) => !specs.has(k));
  const extra = [...specs.keys()].filter((k) => !(METRIC_NAMES as readonly string[]).includes(k));
  // A programming error, caught by any test that classifies: the rules and the registry must name the same metrics.
  if (missing.length || extra.length) throw new Error(`the metric registry bootstraps ${[...specs.keys()].join(", ")} but the verdict rules read ${METRIC_NAMES.join(", ")}`);
  return new Map(METRIC_NAMES.map((k) => [k, specs.get(k)!]));
})();

type StepLike = Pick<Step, "ptoken" | "leak">;

const zeros = (): Estimates => ({ atvd: 0, volatility: 0, concentration: 0, marginal_tvd: 0 });

/** The rule metrics of one run (or one resampled sequence of steps). Throws InputError on a malformed step. */
export function estimatesOf(target: Target, steps: readonly StepLike[]): Estimates {
  checkSteps(target, steps);
  const out = zeros();
  for (const [k, spec] of SPECS) out[k] = spec.perRun(target, steps);
  return out;
}

export function meanEstimates(list: readonly Estimates[]): Estimates {
  const out = zeros();
  for (const e of list) for (const k of METRIC_NAMES) out[k] += e[k];
  for (const k of METRIC_NAMES) out[k] /= list.length;
  return out;
}

/** Linear-interpolation quantile (type 7) of an ascending-sorted array. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function percentileBox(samples: Record<MetricName, number[]>, point: Estimates): Box {
  const box = {} as Box;
  for (const k of METRIC_NAMES) {
    const s = samples[k];
    if (s.length === 0) {
      box[k] = [point[k], point[k]];
      continue;
    }
    s.sort((a, b) => a - b);
    const iv: Interval = [quantileSorted(s, 0.025), quantileSorted(s, 0.975)];
    box[k] = iv;
  }
  return box;
}

function emptySamples(): Record<MetricName, number[]> {
  return Object.fromEntries(METRIC_NAMES.map((k) => [k, [] as number[]])) as Record<MetricName, number[]>;
}

function randomIndex(n: number, rng: Rng): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** 95% percentile intervals of the mean of per-run estimates, resampling runs with replacement B times. */
export function bootstrapRuns(perRun: readonly Estimates[], B: number, rng: Rng): Box {
  const point = meanEstimates(perRun);
  const samples = emptySamples();
  const n = perRun.length;
  for (let b = 0; b < B; b++) {
    const acc = zeros();
    for (let i = 0; i < n; i++) {
      const e = perRun[randomIndex(n, rng)]!;
      for (const k of METRIC_NAMES) acc[k] += e[k];
    }
    for (const k of METRIC_NAMES) samples[k].push(acc[k] / n);
  }
  return percentileBox(samples, point);
}

export function blockLength(T: number): number {
  return Math.min(T, Math.max(2, Math.round(Math.cbrt(T))));
}

/** 95% moving-block bootstrap intervals over the steps of a single run (see the file header). */
export function bootstrapSteps(target: Target, steps: readonly StepLike[], B: number, rng: Rng): Box {
  const T = steps.length;
  const point = estimatesOf(target, steps);
  const samples = emptySamples();
  if (T < 2) return percentileBox(samples, point);
  const L = blockLength(T);
  // Metrics over consecutive pairs (volatility): the value of each transition t−1 → t (t ≥ 1), computed once.
  const pairwise = [...SPECS].filter(([, spec]) => spec.transitions);
  const whole = [...SPECS].filter(([, spec]) => !spec.transitions);
  const transition = new Map(pairwise.map(([k, spec]) => {
    const v: number[] = [0];
    for (let t = 1; t < T; t++) v.push(spec.perRun(target, [steps[t - 1]!, steps[t]!]));
    return [k, v];
  }));
  const starts = T - L + 1;
  for (let b = 0; b < B; b++) {
    const chosen: StepLike[] = [];
    const pairSum = new Map(pairwise.map(([k]) => [k, 0]));
    let pairCount = 0;
    while (chosen.length < T) {
      const s = randomIndex(starts, rng);
      const len = Math.min(L, T - chosen.length);
      for (let j = 0; j < len; j++) {
        chosen.push(steps[s + j]!);
        if (j > 0) {
          for (const [k, v] of transition) pairSum.set(k, pairSum.get(k)! + v[s + j]!);
          pairCount++;
        }
      }
    }
    for (const [k, spec] of whole) samples[k].push(spec.perRun(target, chosen));
    for (const [k] of pairwise) samples[k].push(pairCount > 0 ? pairSum.get(k)! / pairCount : point[k]);
  }
  return percentileBox(samples, point);
}
