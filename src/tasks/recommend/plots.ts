// The recommendation chart for the report: accuracy (NDCG@k) against diversity (coverage), point size = stability
// under permutation. A Vega-Lite spec, data only: the report renders it (src/report/tasks.ts).

import type * as vl from "vega-lite";
import type { RecommendResult } from "./run.ts";

type Spec = vl.TopLevelSpec;

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

