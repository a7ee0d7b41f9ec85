// The metrics the verdict and the outputs have always had (docs/metrics.md). Registry order is the order of the keys
// in the result JSON's `metrics` object and of the export columns; `summary.rank` / `html.rank` order the tables.

import { mean } from "./basic.ts";
import { defineMetric, formatValue, type MetricContext, type MetricDef } from "./metric.ts";
import { atvdOf, concentrationOf, countUnparsed, marginalTvdOf, volatilityOf, type RunMetrics } from "./run.ts";
import { chi2Meaning } from "./chi2Cells.ts";

const P = { digits: 3 };
const avg = (ctx: MetricContext, f: (m: RunMetrics) => number): number => mean(ctx.perRun().map(f));

export const atvd = defineMetric({
  name: "atvd",
  meaning: "mean_t TV(q_t, p): per-step misalignment",
  direction: "lower",
  format: P,
  compute: (ctx) => avg(ctx, (m) => m.atvd),
  summary: { rank: 10 },
  export: true,
  html: { rank: 10, ci: true },
  bootstrap: { perRun: atvdOf },
});

export const marginalTvd = defineMetric({
  name: "marginal_tvd",
  meaning: "TV(mean_t q_t, p): misalignment of the average step",
  direction: "lower",
  format: P,
  compute: (ctx) => avg(ctx, (m) => m.marginal_tvd),
  summary: { rank: 20 },
  export: true,
  html: { rank: 40 },
  bootstrap: { perRun: marginalTvdOf },
});

export const sampleTvd = defineMetric({
  name: "sample_tvd",
  meaning: "TV(sample histogram, p)",
  direction: "lower",
  format: P,
  compute: (ctx) => ctx.samples().sample_tvd,
  summary: { rank: 70, meaning: (m) => (m.sample_tvd === null ? "no samples (metrics: give --samples)" : "TV(sample histogram, p)") },
  export: true,
  html: { rank: 60 },
});

export const volatility = defineMetric({
  name: "volatility",
  meaning: "mean_t TV(q_t, q_t-1): step-to-step change",
  direction: "neither",
  format: P,
  compute: (ctx) => avg(ctx, (m) => m.volatility),
  summary: { rank: 30 },
  export: true,
  html: { rank: 20, ci: true },
  bootstrap: { perRun: volatilityOf, transitions: true },
});

export const concentration = defineMetric({
  name: "concentration",
  meaning: "mean_t max_i q_t(i)",
  direction: "neither",
  format: P,
  compute: (ctx) => avg(ctx, (m) => m.concentration),
  summary: { rank: 40 },
  export: true,
  html: { rank: 30 },
  bootstrap: { perRun: concentrationOf },
});

export const entropyRatio = defineMetric({
  name: "entropy_ratio",
  meaning: "mean_t H(q_t) / H(p)",
  direction: "neither",
  format: P,
  // null for every run or none: it depends only on the target.
  compute: (ctx) => {
    const ratios = ctx.perRun().map((m) => m.entropy_ratio);
    return ratios.some((r) => r === null) ? null : mean(ratios as number[]);
  },
  summary: { rank: 50 },
  export: true,
});

// e_score is ptalign's old name for 1 − atvd, which is not the paper's e-score (step-to-step variability; docs/metrics.md,
// "The paper's measures and ours"): the value's name is now alignment_score, and e_score stays, written and shown, as
// its alias for the readers of older results.
export const eScore = defineMetric({
  name: "e_score",
  meaning: "1 - atvd",
  direction: "higher",
  format: P,
  compute: (ctx) => avg(ctx, (m) => m.e_score),
  aliasOf: "alignment_score",
  summary: { rank: 60, meaning: () => "1 - atvd (alias of alignment_score; not the paper's e-score)" },
  export: true,
  html: { rank: 50 },
});

export const leak = defineMetric({
  name: "leak",
  meaning: "mass outside the support",
  direction: "lower",
  format: P,
  compute: (ctx) => avg(ctx, (m) => m.leak),
  summary: { rank: 100 },
  export: true,
  // A leak above the off-format threshold is flagged: the model mostly writes something other than an answer.
  html: { rank: 80, digits: 4, warn: { threshold: "off_format_leak", title: "mostly off-format output" } },
});

export const chi2 = defineMetric({
  name: "chi2",
  meaning: "Pearson chi-square of the sample histogram against p",
  direction: "lower",
  format: { digits: 2 },
  compute: (ctx) => ctx.samples().chi2,
  export: true,
});

export const chi2P = defineMetric({
  name: "chi2_p",
  meaning: "p-value of the Pearson chi-square of the samples against p",
  direction: "higher",
  format: P,
  compute: (ctx) => ctx.samples().chi2_p,
  summary: { rank: 80, meaning: chi2Meaning },
  export: true,
  html: { rank: 70 },
});

export const w1 = defineMetric({
  name: "w1",
  meaning: "Wasserstein-1 of samples vs p",
  direction: "lower",
  format: P,
  compute: (ctx) => ctx.samples().w1,
  summary: { rank: 90, meaning: (m) => (m.sample_tvd === null ? "no samples" : m.w1 === null ? "support not numeric" : "Wasserstein-1 of samples vs p") },
  export: true,
});

export const unparsed = defineMetric({
  name: "unparsed",
  meaning: "steps whose written answer could not be parsed (sample null)",
  direction: "lower",
  format: P,
  compute: (ctx) => countUnparsed(ctx.runs),
  summary: { rank: 110, show: (m) => Boolean(m.unparsed) },
});

export const nValues = defineMetric({
  name: "n_values",
  meaning: "numbers the value tests used (continuous targets)",
  direction: "neither",
  format: { digits: 0 },
  compute: (ctx) => ctx.values().n_values,
});

export const ks = defineMetric({
  name: "ks",
  meaning: "one-sample Kolmogorov-Smirnov D of the values vs the CDF (continuous targets)",
  direction: "lower",
  format: P,
  compute: (ctx) => ctx.values().ks,
});

export const ksP = defineMetric({
  name: "ks_p",
  meaning: "p-value of the one-sample KS test of the values vs the CDF (continuous targets)",
  direction: "higher",
  format: P,
  compute: (ctx) => ctx.values().ks_p,
  summary: { rank: 120, show: (_m, target) => Boolean(target.continuous), meaning: (m) => `one-sample KS vs the CDF, D = ${formatValue(m.ks ?? null)} (${m.n_values ?? 0} values)` },
});

export const w1Dist = defineMetric({
  name: "w1_dist",
  meaning: "Wasserstein-1 of the values vs the distribution",
  direction: "lower",
  format: P,
  compute: (ctx) => ctx.values().w1_dist,
  summary: { rank: 130, show: (_m, target) => Boolean(target.continuous) },
});

/** In result-JSON key order (the order before the registry existed). */
export const BUILTIN_METRICS: readonly MetricDef[] = [atvd, marginalTvd, sampleTvd, volatility, concentration, entropyRatio, eScore, leak, chi2, chi2P, w1, unparsed, nValues, ks, ksP, w1Dist];
