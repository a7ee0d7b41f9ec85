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

/** At most this many queries get a panel of their own (the first ones, in the result's order). */
export const QUERY_PANELS = 12;

/**
 * Per query (one panel each, the first QUERY_PANELS): its documents in target order (highest ε* first) on x; the
 * target exposure ε* as a grey step line, each model's ε as points. A model on the line spreads exposure as the
 * exposure-fair policy does for that query.
 */
export function exposureByQuerySpec(results: readonly SearchResult[]): Spec {
  const ids = [...new Set(results.flatMap((r) => r.queries.filter((q) => q.exposure).map((q) => q.id)))].slice(0, QUERY_PANELS);
  const values: Record<string, unknown>[] = [];
  const seenTarget = new Set<string>();
  for (const r of results) {
    for (const q of r.queries) {
      if (!q.exposure || !q.target_exposure || !ids.includes(q.id)) continue;
      const order = q.pool.map((_, i) => i).sort((a, b) => q.target_exposure![b]! - q.target_exposure![a]! || a - b);
      order.forEach((i, pos) => {
        const doc = q.pool[i]!;
        if (!seenTarget.has(`${q.id}/${doc.id}`)) values.push({ query: q.id, position: pos + 1, doc: doc.id, grade: doc.grade, series: "target ε*", value: q.target_exposure![i]! });
        values.push({ query: q.id, position: pos + 1, doc: doc.id, grade: doc.grade, series: r.model, value: q.exposure![i]! });
      });
      q.pool.forEach((d) => seenTarget.add(`${q.id}/${d.id}`));
    }
  }
  return {
    title: { text: `search: exposure vs target exposure per query${ids.length === QUERY_PANELS ? ` (first ${QUERY_PANELS} queries)` : ""}`, fontSize: 13 },
    data: { values },
    facet: { field: "query", type: "nominal", title: "query", sort: ids },
    columns: 4,
    spec: {
      width: 160,
      height: 120,
      layer: [
        { transform: [{ filter: "datum.series === 'target ε*'" }], mark: { type: "line", interpolate: "step-after", color: "#888" }, encoding: { x: { field: "position", type: "quantitative", title: "document (target order)" }, y: { field: "value", type: "quantitative", title: "exposure" } } },
        {
          transform: [{ filter: "datum.series !== 'target ε*'" }],
          mark: { type: "point", filled: true, opacity: 0.8 },
          encoding: {
            x: { field: "position", type: "quantitative" },
            y: { field: "value", type: "quantitative" },
            color: { field: "series", type: "nominal", title: "model" },
            tooltip: [{ field: "series", title: "model" }, { field: "query" }, { field: "doc" }, { field: "grade" }, { field: "value", format: ".4f", title: "ε" }],
          },
        },
      ],
    },
  } as Spec;
}
