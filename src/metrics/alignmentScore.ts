// alignment_score = 1 − atvd: how close every single step is to P_task (docs/metrics.md). It is the value ptalign called
// `e_score` before the paper's own e-score was known to measure something else (step-to-step variability); `e_score`
// stays registered as its alias, so older results and readers keep working, and older results are read through it.

import { mean } from "./basic.ts";
import { defineMetric } from "./metric.ts";

export const alignmentScore = defineMetric({
  name: "alignment_score",
  meaning: "1 - atvd: per-step alignment with P_task (formerly e_score)",
  direction: "higher",
  format: { digits: 3 },
  compute: (ctx) => mean(ctx.perRun().map((m) => 1 - m.atvd)),
  formerly: ["e_score"],
  export: true,
});
