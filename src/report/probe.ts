// The report's probe section (docs/probe.md), for measurements made by `ptalign probe`: a layer × step heatmap of
// TV(lens, P_task), the histogram of commit layers, and the attention from the answer position per block.
import { summariseProbe } from "../probe/summary.ts";
import { probeWords } from "../probe/words.ts";
import type { ProbeStep } from "../probe/types.ts";
import type { Run } from "../types.ts";
import { HEATMAP_MAX_STEPS, renderSvg } from "./charts.ts";
import { esc } from "./escape.ts";

type Spec = Parameters<typeof renderSvg>[0];

/** Whether a measurement's steps carry probe fields. */
export function isProbed(runs: readonly Run[]): boolean {
  return runs.some((r) => r.steps.some((s) => (s as ProbeStep).lens !== undefined || (s as ProbeStep).attention !== undefined));
}

/** Layer × step heatmap of TV(lens_l, P_task) for one run. */
export function lensHeatmapSpec(runs: readonly Run[], runIndex = 0): Spec {
  const run = runs[runIndex]!;
  const steps = (run.steps as ProbeStep[]).slice(0, HEATMAP_MAX_STEPS).filter((s) => s.lens);
  const cells = steps.flatMap((s) => s.lens!.map((l) => ({ t: s.t, block: l.layer, tv: l.tv_task })));
  const commits = steps.filter((s) => s.commit_layer !== undefined && s.commit_layer !== null).map((s) => ({ t: s.t, block: s.commit_layer!, mark: "commit layer" }));
  const layers = steps[0]?.lens?.length ?? 0;
  const cell = Math.max(2, Math.min(11, Math.floor(330 / Math.max(1, steps.length))));
  const rowH = Math.max(4, Math.min(22, Math.floor(260 / Math.max(1, layers))));
  const x = { field: "t", type: "ordinal", title: "step", axis: { labelOverlap: true, labelAngle: 0 } };
  const y = { field: "block", type: "ordinal", title: "block", sort: "descending", axis: { labelOverlap: true } };
  return {
    title: { text: `TV(lens, P_task) per block and step (run ${runIndex + 1}, seed ${run.seed})`, fontSize: 12 },
    width: cell * Math.max(1, steps.length),
    height: rowH * Math.max(1, layers),
    layer: [
      { name: "lens", data: { values: cells }, mark: { type: "rect" }, encoding: { x, y, color: { field: "tv", type: "quantitative", title: "TV to P_task", scale: { domain: [0, 1], scheme: "orangered" } } } },
      {
        name: "commit",
        data: { values: commits },
        mark: { type: "point", shape: "diamond", size: Math.min(30, cell * 2), color: "#08519c", filled: true },
        encoding: { x, y, shape: { field: "mark", type: "nominal", title: null, scale: { domain: ["commit layer"], range: ["diamond"] }, legend: { orient: "bottom", symbolFillColor: "#08519c", symbolStrokeColor: "#08519c" } } },
      },
    ],
  } as Spec;
}

/** Steps per commit layer (all runs). */
export function commitHistogramSpec(runs: readonly Run[]): Spec {
  const summary = summariseProbe({ runs: [...runs] });
  const hist = summary.commit_histogram ?? {};
  const layers = summary.layers;
  const domain = [...Array.from({ length: layers }, (_, l) => String(l)), "none"];
  const values = domain.map((k) => ({ block: k, steps: hist[k] ?? 0 }));
  return {
    title: { text: `commit layer (${summary.steps} steps; median ${summary.commit_median ?? "none"})`, fontSize: 12 },
    width: Math.max(160, Math.min(360, 12 * domain.length)),
    height: 170,
    data: { values },
    mark: { type: "bar", color: "#08519c" },
    encoding: {
      x: { field: "block", type: "ordinal", sort: null, scale: { domain }, title: "first block from which the final top answer stays on top", axis: { labelOverlap: true, labelAngle: 0 } },
      y: { field: "steps", type: "quantitative", title: "steps" },
    },
  } as Spec;
}

/** Mean attention from the answer position per block, stacked by region. */
export function attentionSpec(runs: readonly Run[]): Spec {
  const summary = summariseProbe({ runs: [...runs] });
  const regions = ["earlier samples", "target description", "rest of prompt"];
  const values = (summary.attention ?? []).flatMap((a) => [
    { block: a.layer, region: regions[0], mass: a.history },
    { block: a.layer, region: regions[1], mass: a.target },
    { block: a.layer, region: regions[2], mass: a.prompt },
  ]);
  return {
    title: { text: "attention from the answer position (mean over heads and steps)", fontSize: 12 },
    width: Math.max(160, Math.min(360, 10 * (summary.attention?.length ?? 1))),
    height: 170,
    data: { values },
    mark: { type: "bar" },
    encoding: {
      x: { field: "block", type: "ordinal", title: "block", axis: { labelOverlap: true, labelAngle: 0 } },
      y: { field: "mass", type: "quantitative", title: "attention mass", stack: "zero", scale: { domain: [0, 1] } },
      color: { field: "region", type: "nominal", title: null, scale: { domain: regions, range: ["#d62728", "#2ca02c", "#c7c7c7"] }, legend: { orient: "top" } },
      order: { field: "region", sort: "descending" },
    },
  } as Spec;
}

/** The section's HTML ("" for a measurement that was not probed). */
export async function probeSection(runs: readonly Run[]): Promise<string> {
  if (!isProbed(runs)) return "";
  const s = summariseProbe({ runs: [...runs] });
  const charts: string[] = [];
  if (s.lens) {
    charts.push(`<div class="chart" data-chart="lens">${await renderSvg(lensHeatmapSpec(runs))}</div>`);
    charts.push(`<div class="chart" data-chart="commit">${await renderSvg(commitHistogramSpec(runs))}</div>`);
  }
  if (s.attention) charts.push(`<div class="chart" data-chart="attention">${await renderSvg(attentionSpec(runs))}</div>`);
  return `<div class="probe"><p class="analysis"><b>inside the model</b> (ptalign probe, docs/probe.md): ${esc(probeWords(s))}</p><div class="charts">${charts.join("\n")}</div></div>`;
}
