// `ptalign task search` for one model: n rankings per query drawn rank by rank (rank.ts), each query's exposure and
// D/E metrics (metrics.ts), aggregated over queries with 95% bootstrap intervals (queries resampled).

import { closeModel, isSimModel, openModel, type Model, type ModelOptions } from "../../backends/index.ts";
import { interruption } from "../../errors.ts";
import { makeRng } from "../../rng.ts";
import { checkpointKey, openCheckpoint } from "../choice/checkpoint.ts";
import type { SearchData, SearchQuery } from "./data.ts";
import type { Browsing, BrowsingModel } from "./exposure.ts";
import { exposureOf, queryMetrics, type QueryMetrics, type StepVerdict } from "./metrics.ts";
import { exactExposure } from "./exact.ts";
import { drawRanking, SEARCH_PREFILL, type RankStep } from "./rank.ts";
import { DELIMITER, SEPARATOR } from "../../protocols/prompt.ts";
import { decide, type Estimates } from "../../classify/rules.ts";
import { DEFAULT_THRESHOLDS } from "../../classify/thresholds.ts";
import { OFF_FORMAT_LEAK } from "../warnings.ts";

export interface SearchSettings {
  runs: number;
  seed: number;
  patience: number;
  browsing: Browsing;
  temperature: number;
  prune: number;
  ks: number[];
  bootstrap: number;
  /** How ε is had: estimated from the rankings drawn, or exact over every ranking prefix (small pools). */
  exposure: "sampled" | "exact";
  /** Results directory whose tasks/partial/ keeps the checkpoint (resume); none with --no-save. */
  out?: string;
  /** Re-orderings of each pool measured again (position bias); 0 = none. */
  permutations: number;
}

export const DEFAULT_SEARCH: Omit<SearchSettings, "seed"> = { runs: 5, patience: 0.5, browsing: "rbp", temperature: 1, prune: 1e-7, ks: [5, 10], bootstrap: 1000, exposure: "sampled", permutations: 0 };

/** How ε is estimated (recorded in the result as `exposure_estimator`). */
export const EXPOSURE_ESTIMATOR = "rao-blackwell: mean over the n rankings of Σ_k e_k(documents above) · P_token,k(d), the last rank conditioned on the one before; exposure_sampled is the plain estimate from the drawn ranks";
export const EXPOSURE_EXACT = "exact: Σ over every ranking prefix the model reaches of P(prefix) · e_k · P_token(d | prefix); exposure_sampled is the plain estimate from the drawn ranks";

export interface SearchQueryRecord extends Partial<QueryMetrics> {
  id: string;
  source_id?: string;
  /** The pool in the order shown: document id, grade (0 = not relevant or unjudged), judged. */
  pool: { id: string; grade: number; judged: boolean }[];
  /** The rankings drawn, as pool indices, most exposed first. */
  rankings: number[][];
  /** Per ranking, per rank: P_token over the remaining documents (pool order) and the leak. */
  steps: { ptoken: number[]; leak: number }[][];
  /** Why the query could not be ranked (absent when it was). */
  unscored?: string;
  /** --permutations: mean ‖ε − ε with the pool re-ordered‖² (position bias); null when no re-ordering was ranked. */
  order_ee_l?: number | null;
}

type Interval = [number, number];

export interface SearchMetrics {
  queries: number;
  /** Means over the ranked queries, with 95% bootstrap intervals over queries. */
  ee_l: number;
  ee_d: number;
  ee_r: number;
  ci: { ee_l: Interval; ee_d: Interval; ee_r: Interval };
  normalised: { ee_r: number; ee_d: number };
  ndcg: Record<string, { mean: number; sd: number } | null>;
  atvd: number;
  concentration: number;
  volatility: number;
  marginal_tvd: number;
  leak: number;
  /** --permutations: mean over queries of order_ee_l (absent without permutations). */
  order_ee_l?: number | null;
  /** The rules at the mean estimates over queries. */
  verdict: StepVerdict;
  /** How many queries got each verdict. */
  verdicts: Record<string, number>;
  unscored?: number;
}

export interface SearchResult {
  version: 1;
  task: "search";
  model: string;
  settings: Record<string, unknown>;
  data: { layout: SearchData["layout"]; files: SearchData["files"]; queries: number; pool: number };
  exposure_estimator: string;
  metrics: SearchMetrics;
  queries: SearchQueryRecord[];
  /** Queries taken from an earlier, interrupted measurement (resume). */
  resumed?: number;
  warnings?: string[];
  id?: string;
  /** Set when Ctrl-C or SIGTERM stopped it: the numbers cover the `done` finished queries (types/task.ts). */
  interrupted?: { signal: string; done: number; total: number; unit: string };
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

function orderMean(records: readonly SearchQueryRecord[]): number | null {
  const xs = records.flatMap((r) => (typeof r.order_ee_l === "number" ? [r.order_ee_l] : []));
  return xs.length ? mean(xs) : null;
}

/** 95% percentile interval of the mean (queries resampled with replacement, seeded). */
function bootstrapMean(xs: readonly number[], B: number, seed: string): Interval {
  if (xs.length < 2 || B === 0) return [mean(xs), mean(xs)];
  const rng = makeRng(seed);
  const means = Array.from({ length: B }, () => mean(Array.from({ length: xs.length }, () => xs[Math.floor(rng() * xs.length)]!))).sort((a, b) => a - b);
  return [means[Math.floor(0.025 * (B - 1))]!, means[Math.ceil(0.975 * (B - 1))]!];
}

/** One query: n rankings drawn, the exact ε when asked, its metrics (or why it could not be ranked). */
async function measureQuery(model: Model, q: SearchQuery, s: SearchSettings, b: BrowsingModel, onUnit?: () => void): Promise<SearchQueryRecord> {
  const grades = q.pool.map((d) => d.grade);
  const rankings: RankStep[][] = [];
  let unscored: string | undefined;
  for (let r = 0; r < s.runs; r++) {
    const got = await drawRanking(model, q, { temperature: s.temperature, prune: s.prune, seed: s.seed + r }, makeRng(`${s.seed + r}/search/${q.id}`), `${s.seed + r}/search/${q.id}`);
    onUnit?.();
    if (got.order === null) {
      unscored = `ranking ${r + 1}, ${got.reason}`;
      for (let rest = r + 1; rest < s.runs; rest++) onUnit?.();
      break;
    }
    rankings.push(got.steps);
  }
  const base = { id: q.id, ...(q.source_id ? { source_id: q.source_id } : {}), pool: q.pool.map((d) => ({ id: d.id, grade: d.grade, judged: d.judged })) };
  const steps = rankings.map((st) => st.map((x) => ({ ptoken: x.ptoken, leak: x.leak })));
  const orders = rankings.map((st) => [...st.map((x) => x.pick), st.at(-1)!.remaining.find((i) => i !== st.at(-1)!.pick)!]);
  let exact: number[] | undefined;
  if (!unscored && s.exposure === "exact") {
    const got = await exactExposure(model, q, { temperature: s.temperature, prune: s.prune, seed: s.seed }, b, `${s.seed}/search/${q.id}`);
    if (got.eps === null) unscored = `exact exposure, ${got.reason}`;
    else exact = got.eps;
  }
  if (unscored) {
    for (let i = 0; i < s.permutations * s.runs; i++) onUnit?.();
    return { ...base, rankings: orders, steps, unscored };
  }
  const m = queryMetrics(grades, rankings, b, s.ks, exact);
  const order = s.permutations > 0 ? await orderStability(model, q, s, b, m.exposure, onUnit) : undefined;
  return { ...base, ...m, ...(order !== undefined ? { order_ee_l: order } : {}), rankings: orders, steps };
}

/**
 * Position bias: the pool shown in --permutations other orders (seeded), ε measured again the same way (exact or
 * from --runs rankings) and mapped back by document; the mean of ‖ε − ε_permuted‖² (0 = the order shown does not
 * matter; with sampled ε it includes the estimates' own noise). Null when no re-ordering could be ranked.
 */
async function orderStability(model: Model, q: SearchQuery, s: SearchSettings, b: BrowsingModel, eps: readonly number[], onUnit?: () => void): Promise<number | null> {
  const n = q.pool.length;
  const grades = q.pool.map((d) => d.grade);
  const diffs: number[] = [];
  for (let p = 0; p < s.permutations; p++) {
    const rng = makeRng(`${s.seed}/search/${q.id}/permutation ${p}`);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const shown: SearchQuery = { ...q, pool: order.map((i) => q.pool[i]!) };
    const key = `${q.id}/permutation ${p}`;
    const rankings: RankStep[][] = [];
    for (let r = 0; r < s.runs; r++) {
      const got = await drawRanking(model, shown, { temperature: s.temperature, prune: s.prune, seed: s.seed + r }, makeRng(`${s.seed + r}/search/${key}`), `${s.seed + r}/search/${key}`);
      onUnit?.();
      if (got.order !== null) rankings.push(got.steps);
    }
    let permuted: number[] | null = null;
    if (s.exposure === "exact") {
      const got = await exactExposure(model, shown, { temperature: s.temperature, prune: s.prune, seed: s.seed }, b, `${s.seed}/search/${key}`);
      permuted = got.eps;
    } else if (rankings.length === s.runs) permuted = exposureOf(n, order.map((i) => grades[i]!), rankings, b).rb;
    if (permuted === null) continue;
    const back = q.pool.map((_, i) => permuted[order.indexOf(i)]!);
    diffs.push(eps.reduce((acc, x, i) => acc + (x - back[i]!) ** 2, 0));
  }
  return diffs.length ? mean(diffs) : null;
}

/** Checkpoints to remove once their result is stored (Task.stored); a result never stored keeps its checkpoint. */
const pendingCheckpoints = new WeakMap<SearchResult, () => Promise<void>>();

/** The result was stored: its checkpoint can go. */
export async function searchStored(result: SearchResult): Promise<void> {
  await pendingCheckpoints.get(result)?.();
}

export async function runSearch(modelSpec: string, data: SearchData, s: SearchSettings, opts: { backend?: ModelOptions; model?: Model; onUnit?: () => void; signal?: AbortSignal } = {}): Promise<SearchResult> {
  const model = opts.model ?? (await openModel(modelSpec, opts.backend));
  const b: BrowsingModel = { kind: s.browsing, patience: s.patience };
  try {
    const name = isSimModel(model) ? model.spec : modelSpec;
    const { out, ...numbers } = s;
    const key = checkpointKey({ task: "search", model: name, settings: numbers, queries: data.queries.map((q) => [q.id, q.text, q.pool.map((d) => [d.id, d.grade, d.text])]) });
    // DIR/tasks/partial/search-<key>.jsonl: each ranked query's record as soon as it is measured (the choice core's
    // checkpoint; a line without a pool and rankings is measured again).
    const checkpoint = await openCheckpoint<SearchQueryRecord>(out, "search", key, (r): r is SearchQueryRecord => {
      const q = r as SearchQueryRecord;
      return typeof q.id === "string" && Array.isArray(q.pool) && Array.isArray(q.rankings);
    });
    const records: SearchQueryRecord[] = [];
    let resumed = 0;
    for (const q of data.queries) {
      // Ctrl-C: stop between queries; the checkpoint keeps every finished one for the next invocation.
      if (opts.signal?.aborted) break;
      const earlier = checkpoint.done.get(q.id);
      if (earlier) {
        records.push(earlier);
        resumed++;
        for (let r = 0; r < s.runs; r++) opts.onUnit?.();
        continue;
      }
      const record = await measureQuery(model, q, s, b, opts.onUnit);
      await checkpoint.add(record);
      records.push(record);
    }
    const ranked = records.filter((r): r is SearchQueryRecord & QueryMetrics => r.unscored === undefined);
    const pick = (f: (r: QueryMetrics) => number) => ranked.map(f);
    const est = (k: keyof Estimates | "leak") => mean(pick((r) => r.estimates[k]));
    const estimates = { atvd: est("atvd"), concentration: est("concentration"), volatility: est("volatility"), marginal_tvd: est("marginal_tvd"), leak: est("leak") };
    const verdicts: Record<string, number> = {};
    for (const r of ranked) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
    const ndcg: SearchMetrics["ndcg"] = {};
    for (const k of s.ks) {
      const xs = ranked.flatMap((r) => (r.ndcg[String(k)] ? [r.ndcg[String(k)]!] : []));
      ndcg[String(k)] = xs.length ? { mean: mean(xs.map((x) => x.mean)), sd: mean(xs.map((x) => x.sd)) } : null;
    }
    const unscored = records.length - ranked.length;
    const metrics: SearchMetrics = {
      queries: ranked.length,
      ee_l: mean(pick((r) => r.ee_l)),
      ee_d: mean(pick((r) => r.ee_d)),
      ee_r: mean(pick((r) => r.ee_r)),
      ci: {
        ee_l: bootstrapMean(pick((r) => r.ee_l), s.bootstrap, `${s.seed}/search/ci/ee_l`),
        ee_d: bootstrapMean(pick((r) => r.ee_d), s.bootstrap, `${s.seed}/search/ci/ee_d`),
        ee_r: bootstrapMean(pick((r) => r.ee_r), s.bootstrap, `${s.seed}/search/ci/ee_r`),
      },
      normalised: { ee_r: mean(pick((r) => r.normalised.ee_r)), ee_d: mean(pick((r) => r.normalised.ee_d)) },
      ndcg,
      ...estimates,
      verdict: ranked.length === 0 ? "uncertain" : estimates.leak > OFF_FORMAT_LEAK ? "off-format" : s.runs < 2 ? "uncertain" : decide(estimates, DEFAULT_THRESHOLDS),
      verdicts,
      ...(s.permutations > 0 ? { order_ee_l: orderMean(ranked) } : {}),
      ...(unscored ? { unscored } : {}),
    };
    const firstUnscored = records.find((r) => r.unscored);
    const warnings = [
      ...data.notes,
      ...(firstUnscored ? [`${name}: ${unscored} of ${records.length} queries could not be ranked and are left out of the metrics (first: query ${firstUnscored.id}, ${firstUnscored.unscored})`] : []),
      ...(estimates.leak > OFF_FORMAT_LEAK ? [`${name}: off-format: mean leak ${estimates.leak.toFixed(4)} > ${OFF_FORMAT_LEAK}: the model rarely writes a document label, so the exposure describes answers it rarely gives; check the prompt (chat template, --raw)`] : []),
      ...(s.runs < 2 ? [`${name}: one ranking per query: volatility across rankings cannot be measured, so the D/E verdict is uncertain; use --runs 2 or more`] : []),
    ];
    const result: SearchResult = {
      version: 1,
      task: "search",
      model: name,
      settings: { runs: s.runs, seed: s.seed, patience: s.patience, browsing: s.browsing, temperature: s.temperature, prune: s.prune, k: s.ks, bootstrap: s.bootstrap, exposure: s.exposure, permutations: s.permutations, prefill: SEARCH_PREFILL, answer: `${SEPARATOR}LABEL${DELIMITER}` },
      data: { layout: data.layout, files: data.files, queries: data.queries.length, pool: Math.max(...data.queries.map((q) => q.pool.length)) },
      exposure_estimator: s.exposure === "exact" ? EXPOSURE_EXACT : EXPOSURE_ESTIMATOR,
      metrics,
      queries: records,
      ...(resumed ? { resumed } : {}),
      ...(warnings.length ? { warnings } : {}),
      ...(opts.signal?.aborted ? { interrupted: { signal: interruption(opts.signal).signal, done: records.length, total: data.queries.length, unit: "queries" } } : {}),
    };
    // An interrupted result keeps its checkpoint: the same command resumes from it.
    if (!result.interrupted) pendingCheckpoints.set(result, checkpoint.finish);
    return result;
  } finally {
    if (!opts.model) await closeModel(model);
  }
}
