// Bootstrap 95% percentile intervals for the rule metrics.
//  - Several runs: resample runs with replacement, recompute the mean of the per-run metrics.
//  - One run: moving-block bootstrap over that run's steps (blocks of consecutive steps keep the short-range
//    dependence that a sequential protocol creates). Block length L = max(2, round(T^(1/3))), at most T.
//    atvd, concentration and marginal_tvd are recomputed on the resampled steps; volatility is the mean of the
//    step-to-step transitions inside the blocks only, so no artificial transition is created where two blocks meet.

import { runMetrics } from "../metrics/index.ts";
import type { Rng } from "../rng.ts";
import type { Step, Target } from "../types.ts";
import type { Box, Estimates, Interval, MetricName } from "./rules.ts";

export const METRIC_NAMES: readonly MetricName[] = ["atvd", "volatility", "concentration", "marginal_tvd"];

type StepLike = Pick<Step, "ptoken" | "leak">;

export function estimatesOf(target: Target, steps: readonly StepLike[]): Estimates {
  const m = runMetrics(target, steps.map((s) => ({ ptoken: s.ptoken, leak: s.leak })));
  return { atvd: m.atvd, volatility: m.volatility, concentration: m.concentration, marginal_tvd: m.marginal_tvd };
}

export function meanEstimates(list: readonly Estimates[]): Estimates {
  const out: Estimates = { atvd: 0, volatility: 0, concentration: 0, marginal_tvd: 0 };
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
  return { atvd: [], volatility: [], concentration: [], marginal_tvd: [] };
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
    const acc: Estimates = { atvd: 0, volatility: 0, concentration: 0, marginal_tvd: 0 };
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
  // Per-transition volatility TV(q_t, q_{t-1}) for t ≥ 1, computed by the metrics module on the pair.
  const transition: number[] = [0];
  for (let t = 1; t < T; t++) transition.push(estimatesOf(target, [steps[t - 1]!, steps[t]!]).volatility);
  const starts = T - L + 1;
  for (let b = 0; b < B; b++) {
    const chosen: StepLike[] = [];
    let volSum = 0;
    let volCount = 0;
    while (chosen.length < T) {
      const s = randomIndex(starts, rng);
      const len = Math.min(L, T - chosen.length);
      for (let j = 0; j < len; j++) {
        chosen.push(steps[s + j]!);
        if (j > 0) {
          volSum += transition[s + j]!;
          volCount++;
        }
      }
    }
    const e = estimatesOf(target, chosen);
    samples.atvd.push(e.atvd);
    samples.concentration.push(e.concentration);
    samples.marginal_tvd.push(e.marginal_tvd);
    samples.volatility.push(volCount > 0 ? volSum / volCount : point.volatility);
  }
  return percentileBox(samples, point);
}
