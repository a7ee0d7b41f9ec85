// Guidance from stored `task search` results: per search domain — the same queries, pools and browsing model, so
// that the exposures compare — the models ranked by EE-L (distance of their expected exposure from the exposure-fair
// target), and which type (D or E) the data favours. Pure: no model call. docs/tasks.md, "Search" → "Guidance".
//
// A type is "favoured" only when the closest model has a D or E verdict, a model of the other type was measured on
// the same domain, and their EE-L intervals do not overlap. An exposure-fair target is met in expectation by an E
// ranker and by a D ranker alike, so "not decided" is the common, honest answer when both follow the grades.

import { createHash } from "node:crypto";
import type { SearchResult } from "../tasks/search/run.ts";
import type { TaskResult } from "../types/task.ts";

export interface SearchAdviceLine {
  model: string;
  ee_l: number;
  ci: [number, number];
  /** The verdict at the mean per-rank estimates over queries (metrics.verdict). */
  type: string;
  /** nDCG at the largest k (mean over queries), null when no query has a relevant document in its pool. */
  ndcg: number | null;
  id: string | null;
  reason: string;
}

export interface SearchDomainAdvice {
  /** "search · beir · 2 queries · pool 6 · rbp γ=0.5". */
  domain: string;
  queries: number;
  ranking: SearchAdviceLine[];
  favours: "E" | "D" | null;
  why: string;
}

/** Below this many queries a percentile bootstrap over queries says too little to favour a type. */
export const MIN_QUERIES = 10;

const isSearch = (r: TaskResult): r is SearchResult => r.task === "search" && Array.isArray((r as Partial<SearchResult>).queries) && typeof (r as Partial<SearchResult>).metrics?.ee_l === "number";
const f4 = (x: number) => x.toFixed(4);

export function adviseSearch(results: readonly TaskResult[]): SearchDomainAdvice[] {
  const domains = new Map<string, { sample: SearchResult; byModel: Map<string, SearchResult> }>();
  for (const r of results) {
    if (!isSearch(r) || r.metrics.queries === 0) continue;
    const pools = r.queries.map((q) => [q.id, q.pool.map((d) => [d.id, d.grade])]);
    const key = createHash("sha256").update(JSON.stringify([pools, r.settings.patience, r.settings.browsing])).digest("hex");
    const d = domains.get(key) ?? { sample: r, byModel: new Map() };
    domains.set(key, d);
    d.byModel.set(r.model, r); // oldest first: the latest result of a model wins
  }
  return [...domains.values()].map(({ sample, byModel }) => {
    const ranking = [...byModel.values()]
      .map((r): SearchAdviceLine => {
        const k = String((r.settings.k as number[] | undefined)?.at(-1) ?? 10);
        const ndcg = r.metrics.ndcg[k]?.mean ?? null;
        const ci = r.metrics.ci.ee_l;
        return {
          model: r.model,
          ee_l: r.metrics.ee_l,
          ci,
          type: r.metrics.verdict,
          ndcg,
          id: r.id ?? null,
          reason: `EE-L ${f4(r.metrics.ee_l)} [${f4(ci[0])}, ${f4(ci[1])}], EE-R ${f4(r.metrics.ee_r)}, EE-D ${f4(r.metrics.ee_d)}${ndcg !== null ? `, nDCG@${k} ${ndcg.toFixed(3)}` : ""}; verdict ${r.metrics.verdict}; result ${r.id ?? "(unsaved)"}`,
        };
      })
      .sort((a, b) => a.ee_l - b.ee_l || a.model.localeCompare(b.model));
    const best = ranking[0]!;
    const typed = (l: SearchAdviceLine) => l.type === "E" || l.type === "D";
    const other = ranking.find((l) => typed(l) && typed(best) && l.type !== best.type);
    let favours: "E" | "D" | null = null;
    let why: string;
    if (sample.metrics.queries < MIN_QUERIES) why = `only ${sample.metrics.queries} queries: too few for the EE-L intervals (queries resampled) to decide; measure ${MIN_QUERIES} or more`;
    else if (!typed(best)) why = `the closest model (${best.model}) is neither E nor D (${best.type}), so these models do not show which type the data favours`;
    else if (!other) why = `no ${best.type === "E" ? "D" : "E"}-type model was measured on these pools; measure one to compare`;
    else if (best.ci[1] >= other.ci[0]) why = `${best.model} (${best.type}) and ${other.model} (${other.type}) have overlapping EE-L intervals: both spread exposure as the target does, not decided`;
    else {
      favours = best.type as "E" | "D";
      why = `${best.model} (${best.type}) is closer to the exposure-fair target than ${other.model} (${other.type}): EE-L ${f4(best.ee_l)} against ${f4(other.ee_l)}, intervals apart`;
    }
    const domain = `search · ${sample.data.layout} · ${sample.metrics.queries} queries · pool ${sample.data.pool} · ${String(sample.settings.browsing)} γ=${String(sample.settings.patience)}`;
    return { domain, queries: sample.metrics.queries, ranking, favours, why };
  });
}
