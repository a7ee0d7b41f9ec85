// The search charts for the report (Vega-Lite specs, data only; src/report/tasks.ts renders them): each document's
// expected exposure ε against its target exposure ε* (on the diagonal = exposure-fair), and EE-L per query.

import type * as vl from "vega-lite";
import type { SearchResult } from "./run.ts";

type Spec = vl.TopLevelSpec;

/** One point per (model, query, document): x = ε*, y = ε; the diagonal is the target. */
export function exposureSpec(results: readonly SearchResult[]): Spec {
  const values = results.flatMap((r) =>
    r.queries.flatMap((q) => (q.exposure && q.target_exposure ? q.pool.map((d, i) => ({ model: r.model, query: q.id, doc: d.id, grade: d.grade, target: q.target_exposure![i]!, exposure: q.exposure![i]! })) : [])),
  );
  const top = Math.max(1e-9, ...values.map((v) => Math.max(v.target, v.exposure)));
  return {
    title: { text: "search: expected exposure vs target exposure (per document)", fontSize: 13 },
    width: 380,
    height: 320,
    layer: [
      { data: { values: [{ x: 0, y: 0 }, { x: top, y: top }] }, mark: { type: "line", color: "#999", strokeDash: [4, 4] }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } },
      {
        data: { values },
        mark: { type: "point", filled: true, opacity: 0.7 },
        encoding: {
          x: { field: "target", type: "quantitative", title: "target exposure ε* (exposure-fair policy)", scale: { domain: [0, top], nice: false } },
          y: { field: "exposure", type: "quantitative", title: "model's expected exposure ε", scale: { domain: [0, top], nice: false } },
          color: { field: "model", type: "nominal", title: "model" },
          shape: { field: "grade", type: "nominal", title: "grade" },
          tooltip: [{ field: "model" }, { field: "query" }, { field: "doc" }, { field: "grade" }, { field: "target", format: ".4f" }, { field: "exposure", format: ".4f" }],
        },
      },
    ],
  } as Spec;
}

/** EE-L per query and model (0 = the target's exposure exactly). */
export function eeLossSpec(results: readonly SearchResult[]): Spec {
  const values = results.flatMap((r) => r.queries.flatMap((q) => (q.ee_l === undefined ? [] : [{ model: r.model, query: q.id, ee_l: q.ee_l, ee_d: q.ee_d, ee_r: q.ee_r, verdict: q.verdict }])));
  return {
    title: { text: "search: EE-L per query", fontSize: 13 },
    width: 380,
    height: 220,
    data: { values },
    mark: { type: "point", filled: true },
    encoding: {
      x: { field: "query", type: "nominal", title: "query", sort: null },
      y: { field: "ee_l", type: "quantitative", title: "EE-L = ‖ε − ε*‖²" },
      color: { field: "model", type: "nominal", title: "model" },
      tooltip: [{ field: "model" }, { field: "query" }, { field: "ee_l", format: ".5f" }, { field: "ee_d", format: ".5f" }, { field: "ee_r", format: ".5f" }, { field: "verdict" }],
    },
  } as Spec;
}
