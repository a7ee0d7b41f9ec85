// The tasks' charts for the report (src/report belongs to the report module; it calls these): Vega-Lite specs
// rendered to static SVG with the report's own renderer.
//   codegen:   pass@k against diversity, one point per model × temperature (a line through each model's sweep).
//   recommend: accuracy (NDCG@k) against diversity (coverage), point size = stability under permutation.

import type * as vl from "vega-lite";
import { renderSvg } from "../report/charts.ts";
import { esc } from "../report/escape.ts";
import type { CodegenResult } from "./codegen/run.ts";
import type { RecommendResult } from "./recommend/run.ts";
import type { TaskResult } from "./store.ts";

type Spec = vl.TopLevelSpec;

export interface PassDiversityPoint {
  model: string;
  temperature: number;
  pass_at_k: number | null;
  edit_distance: number | null;
  distinct: number;
  pass1_sd: number | null;
}

export function passDiversityPoints(results: readonly CodegenResult[], k = 1): PassDiversityPoint[] {
  return results.flatMap((r) =>
    r.summaries.map((s) => ({
      model: r.model,
      temperature: s.temperature,
      pass_at_k: s.pass_at_k[String(k)] ?? null,
      edit_distance: s.diversity.edit_distance,
      distinct: s.diversity.distinct_passing + s.diversity.distinct_failing,
      pass1_sd: s.stability.pass1_sd,
    })),
  );
}

/** pass@k (y) against mean pairwise token edit distance (x), per model across temperatures. */
export function passDiversitySpec(results: readonly CodegenResult[], k = 1): Spec {
  const values = passDiversityPoints(results, k).filter((p) => p.pass_at_k !== null && p.edit_distance !== null);
  const x = { field: "edit_distance", type: "quantitative" as const, title: "diversity: mean pairwise token edit distance", scale: { domain: [0, 1] } };
  const y = { field: "pass_at_k", type: "quantitative" as const, title: `pass@${k}`, scale: { domain: [0, 1] } };
  const color = { field: "model", type: "nominal" as const, title: "model" };
  return {
    title: { text: `code generation: pass@${k} vs diversity across temperatures`, fontSize: 13 },
    width: 380,
    height: 300,
    data: { values },
    layer: [
      { mark: { type: "line", opacity: 0.5 }, encoding: { x, y, color, order: { field: "temperature", type: "quantitative" } } },
      { mark: { type: "point", filled: true, size: 70 }, encoding: { x, y, color, tooltip: [{ field: "model" }, { field: "temperature" }, { field: "pass_at_k", format: ".3f" }, { field: "edit_distance", format: ".3f" }, { field: "pass1_sd", format: ".3f" }] } },
      { data: { values: temperatureLabels(values) }, mark: { type: "text", dx: 6, dy: -8, align: "left", fontSize: 9 }, encoding: { x, y, text: { field: "text" } } },
    ],
  } as Spec;
}

/**
 * One label per drawn position, "T=0.2, 1.0": points of several temperatures that land on the same spot (same pass@k
 * and diversity, common at the extremes) would otherwise print their labels over each other ("1.00.2").
 */
export function temperatureLabels(points: readonly PassDiversityPoint[]): { edit_distance: number; pass_at_k: number; text: string }[] {
  const at = new Map<string, { edit_distance: number; pass_at_k: number; temps: number[] }>();
  for (const p of points) {
    if (p.pass_at_k === null || p.edit_distance === null) continue;
    const key = `${p.edit_distance.toFixed(2)}|${p.pass_at_k.toFixed(2)}`;
    const cur = at.get(key) ?? { edit_distance: p.edit_distance, pass_at_k: p.pass_at_k, temps: [] };
    if (!cur.temps.includes(p.temperature)) cur.temps.push(p.temperature);
    at.set(key, cur);
  }
  return [...at.values()].map((v) => ({ edit_distance: v.edit_distance, pass_at_k: v.pass_at_k, text: `T=${v.temps.sort((a, b) => a - b).map((t) => t.toFixed(1)).join(", ")}` }));
}

/** NDCG@k (y) against coverage (x); point size = stability under permutation (mean Spearman). */
export function recommendViewSpec(results: readonly RecommendResult[], k?: number): Spec {
  const values = results.map((r) => {
    const kk = String(k ?? Object.keys(r.metrics.ndcg).at(-1));
    return { model: r.model, ndcg: r.metrics.ndcg[kk] ?? null, k: kk, coverage: r.metrics.coverage, gini: r.metrics.gini, stability: r.metrics.stability.permutation ?? 0, seeds: r.metrics.stability.seeds, tv: r.metrics.tv };
  });
  return {
    title: { text: "recommendation: accuracy vs diversity vs stability", fontSize: 13 },
    width: 380,
    height: 300,
    data: { values },
    mark: { type: "point", filled: true, opacity: 0.85 },
    encoding: {
      x: { field: "coverage", type: "quantitative", title: "diversity: coverage of recommended items", scale: { domain: [0, 1] } },
      y: { field: "ndcg", type: "quantitative", title: "accuracy: NDCG@k", scale: { domain: [0, 1] } },
      size: { field: "stability", type: "quantitative", title: "stability (rank corr. under permutation)", scale: { domain: [-1, 1], range: [20, 400] } },
      color: { field: "model", type: "nominal", title: "model" },
      tooltip: [{ field: "model" }, { field: "ndcg", format: ".3f" }, { field: "coverage", format: ".3f" }, { field: "gini", format: ".3f" }, { field: "stability", format: ".3f" }, { field: "seeds", format: ".3f" }, { field: "tv", format: ".3f" }],
    },
  } as Spec;
}

/** Both charts as SVG strings (null where there are no results of that task), for the report. */
export async function taskChartsSvg(results: readonly TaskResult[]): Promise<{ codegen: string | null; recommend: string | null }> {
  const cg = results.filter((r): r is CodegenResult => r.task === "codegen");
  const rc = results.filter((r): r is RecommendResult => r.task === "recommend");
  return {
    codegen: cg.length ? await renderSvg(passDiversitySpec(cg)) : null,
    recommend: rc.length ? await renderSvg(recommendViewSpec(rc)) : null,
  };
}

/**
 * The tasks' part of the HTML report: a section with both charts and a one-line note per task result, or "" when
 * DIR holds no task results. The report can append it as is (SVG from Vega's renderer, text escaped here).
 */
export async function taskReportSection(results: readonly TaskResult[]): Promise<string> {
  if (results.length === 0) return "";
  const svg = await taskChartsSvg(results);
  const line = (r: TaskResult) =>
    r.task === "codegen"
      ? `codegen · ${r.model} · ${r.problems.length} problems · n = ${String(r.settings.n)} · T = ${(r.settings.temperatures as number[]).join(", ")}`
      : `recommend · ${r.model} · ${r.data.source}, ${r.data.users} users, ${r.data.candidates} candidates`;
  return [
    `<section class="tasks"><h2>Downstream tasks</h2>`,
    svg.codegen ? `<figure>${svg.codegen}<figcaption>pass@1 against diversity (mean pairwise token edit distance), one point per model and sampling temperature; labels T=… are the temperatures (several when their points coincide)</figcaption></figure>` : "",
    svg.recommend ? `<figure>${svg.recommend}<figcaption>accuracy (NDCG@k) against diversity (coverage); point size = stability under candidate re-ordering</figcaption></figure>` : "",
    `<ul>${results.map((r) => `<li>${esc(line(r))}</li>`).join("")}</ul></section>`,
  ].join("\n");
}
