// The report's part for a measurement made with `ptalign probe --counterfactual` (docs/counterfactual.md): the effect
// of one more draw per step, and the comparison with the observational history slope in words.
import type * as vl from "vega-lite";
import { compareHistory, storedCounterfactual } from "../analysis/counterfactual.ts";
import type { StoredRun } from "../store/read.ts";
import { renderSvg } from "./charts.ts";
import { esc } from "./escape.ts";

interface EffectRow {
  t: number;
  series: string;
  effect: number;
}

/** Per step, the mean over runs of Δq_t(x) per extra draw, for the appended and the removed draw apart. */
export function effectSeries(r: Pick<StoredRun, "runs">): EffectRow[] {
  const sums = new Map<string, { s: number; n: number }>();
  const add = (t: number, series: string, values: readonly (number | null)[] | undefined) => {
    for (const v of values ?? []) {
      if (typeof v !== "number") continue;
      const key = `${series}\u0000${t}`;
      const cur = sums.get(key) ?? { s: 0, n: 0 };
      cur.s += v;
      cur.n++;
      sums.set(key, cur);
    }
  };
  for (const run of r.runs) {
    for (const step of run.steps) {
      const cf = (step as { counterfactual?: { plus?: (number | null)[]; minus?: (number | null)[] } }).counterfactual;
      add(step.t, "one draw appended", cf?.plus);
      add(step.t, "latest draw removed", cf?.minus);
    }
  }
  return [...sums.entries()].map(([k, v]) => ({ series: k.split("\u0000")[0]!, t: Number(k.split("\u0000")[1]), effect: v.s / v.n }));
}

export function effectSpec(r: Pick<StoredRun, "runs">): vl.TopLevelSpec {
  return {
    title: { text: "counterfactual: Δq_t(x) per extra draw of x", fontSize: 12 },
    width: 260,
    height: 170,
    layer: [
      { data: { values: [{ y: 0 }] }, mark: { type: "rule", color: "#999", strokeDash: [3, 3] }, encoding: { y: { field: "y", type: "quantitative" } } },
      {
        data: { values: effectSeries(r) },
        mark: { type: "line", point: { size: 12 }, strokeWidth: 1.5 },
        encoding: {
          x: { field: "t", type: "quantitative", title: "step", axis: { tickMinStep: 1 } },
          y: { field: "effect", type: "quantitative", title: "mean over answers and runs" },
          color: { field: "series", type: "nominal", title: null, scale: { domain: ["one draw appended", "latest draw removed"], range: ["#1f77b4", "#d62728"] }, legend: { orient: "top" } },
        },
      },
    ],
  } as vl.TopLevelSpec;
}

/** The section's block: empty for a measurement without counterfactuals. */
export async function counterfactualBlock(r: StoredRun): Promise<string> {
  const cf = storedCounterfactual(r);
  if (!cf || !r.runs.some((x) => x.steps.length > 0)) return "";
  const words = compareHistory(r.target, r.runs, cf).words;
  return `<div class="counterfactual"><div class="charts"><div class="chart" data-chart="counterfactual">${await renderSvg(effectSpec(r))}</div></div>
<p class="analysis"><b>counterfactual histories</b>: ${esc(words)}</p></div>`;
}
