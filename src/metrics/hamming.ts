// hamming: how different the answers of two runs of one measurement are, position by position (the paper's diversity
// measure; docs/metrics.md, "hamming"). Only the samples drawn are read, not P_token.

import type { Run } from "../types.ts";
import { defineMetric, metricValue } from "./metric.ts";

/**
 * Normalised Hamming distance between two runs' sample sequences: the share of compared positions whose samples
 * differ. Positions are compared by step index up to the shorter run (a run stopped early is compared on the steps it
 * has); a position where either sample is null (no answer in the support) is skipped. null when no position is left.
 */
export function hammingDistance(a: Run, b: Run): number | null {
  const n = Math.min(a.steps.length, b.steps.length);
  let compared = 0;
  let differ = 0;
  for (let t = 0; t < n; t++) {
    const x = a.steps[t]!.sample;
    const y = b.steps[t]!.sample;
    if (x === null || y === null) continue;
    compared++;
    if (x !== y) differ++;
  }
  return compared === 0 ? null : differ / compared;
}

/** Mean of hammingDistance over all pairs of runs, pairs with no compared position left out; null when no pair is left. */
export function meanHamming(runs: readonly Run[]): number | null {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const d = hammingDistance(runs[i]!, runs[j]!);
      if (d === null) continue;
      sum += d;
      pairs++;
    }
  }
  return pairs === 0 ? null : sum / pairs;
}

export const hamming = defineMetric({
  name: "hamming",
  meaning: "mean over pairs of runs of the share of steps whose samples differ",
  // More is not better: i.i.d. draws from p give 1 − Σ p_i² (docs/metrics.md); a collapsed model gives about 0.
  direction: "neither",
  format: { digits: 3 },
  compute: (ctx) => meanHamming(ctx.runs),
  summary: {
    rank: 95,
    meaning: (m) => (metricValue(m, "hamming") === null ? "no two runs with samples at the same steps" : "mean over pairs of runs of the share of steps whose samples differ"),
  },
  export: true,
  html: { rank: 75 },
});
