// The code-generation chart for the report: pass@k against diversity, one point per model × temperature (a line
// through each model's sweep). A Vega-Lite spec, data only: the report renders it (src/report/tasks.ts).

import type * as vl from "vega-lite";
import type { CodegenResult } from "./run.ts";

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

