// `ptalign task search` as a Task (src/tasks/task.ts): graded relevance as P_task. The options, the data (a test
// collection as downloaded), and a thin adapter over runSearch; the numbers are metrics.ts's and exposure.ts's.

import { InputError } from "../../errors.ts";
import type { Task, TaskData, TaskOptionValues, TaskTable } from "../task.ts";
import { modelLabel } from "../task.ts";
import type { Layout } from "./collection.ts";
import { loadSearch, type SearchData, type SearchDataOptions } from "./data.ts";
import type { Browsing } from "./exposure.ts";
import { EXACT_MAX_POOL, exactReadings } from "./exact.ts";
import { eeLossSpec, exposureByQuerySpec, exposureSpec } from "./plots.ts";
import { DEFAULT_SEARCH, runSearch, searchStored, type SearchResult, type SearchSettings } from "./run.ts";

export interface SearchTaskSettings {
  run: SearchSettings;
  data: SearchDataOptions;
}

export function searchTable(results: readonly SearchResult[]): TaskTable {
  const k = String((results[0]?.settings.k as number[] | undefined)?.at(-1) ?? 10);
  const rows = results.map((r) => [modelLabel(r.model), String(r.metrics.queries), r.metrics.ee_l, r.metrics.ee_d, r.metrics.ee_r, r.metrics.ndcg[k]?.mean ?? null, r.metrics.ndcg[k]?.sd ?? null, r.metrics.atvd, r.metrics.concentration, r.metrics.volatility, r.metrics.leak, r.metrics.verdict]);
  return { header: ["model", "queries", "ee_l", "ee_d", "ee_r", `ndcg@${k}`, "ndcg_sd", "atvd", "conc", "volatility", "leak", "verdict"], rows };
}

const opt = (v: unknown) => v as number | undefined;
const text = (v: unknown) => (typeof v === "string" ? v : undefined);

export const searchTask: Task<SearchTaskSettings, SearchData, SearchResult> = {
  name: "search",
  description: "search: rankings drawn rank by rank over a judged pool; expected exposure vs the exposure-fair target (EE-L/D/R), nDCG, per-rank D/E",
  examples: ["ptalign task search --model sim:e --model sim:d --data ./nfcorpus --pool 10 --runs 5 --limit 20", "ptalign task search --model ./model.gguf --data ./cranfield --pool 8 --doc-chars 200 --sample 25 --seed 3"],
  options: [
    { name: "data", value: "dir", description: "the collection's folder as downloaded: BEIR (corpus.jsonl, queries.jsonl, qrels/), TREC/NFCorpus (qrels + docs + queries files) or Cranfield (cran.all.1400, cran.qry, cranqrel)", kind: { type: "text" } },
    { name: "layout", value: "name", description: "the folder's layout (default: told from its files)", kind: { type: "choice", values: ["beir", "trec", "cranfield"] } },
    { name: "split", value: "name", description: "BEIR: the qrels split (qrels/NAME.tsv)", kind: { type: "text" }, default: "test" },
    { name: "qrels", value: "file", description: "TREC: the qrels file (qid 0 docid grade), relative to --data", kind: { type: "text" } },
    { name: "docs", value: "file", description: "TREC: the document file (id TAB text, TREC <DOC> SGML or JSON lines)", kind: { type: "text" } },
    { name: "queries", value: "file", description: "TREC: the query file (id TAB text, TREC topics or JSON lines); default every *.queries / queries* / topics* file", kind: { type: "text" } },
    { name: "pool", value: "n", description: "documents per query: its judged documents plus unjudged ones drawn with the seed", kind: { type: "whole", min: 2 }, default: 10 },
    { name: "doc-chars", value: "n", description: "each document shown cut to n characters", kind: { type: "whole", min: 10 }, default: 300 },
    { name: "limit", value: "n", description: "the first n queries with a relevant judgment", kind: { type: "whole", min: 1 } },
    { name: "sample", value: "n", description: "n queries drawn with the seed (before --limit)", kind: { type: "whole", min: 1 } },
    { name: "patience", value: "g", description: "γ: the browsing model's chance of going on to the next rank (rank k's exposure γ^(k−1) under RBP)", kind: { type: "real", min: 0, max: 1 }, default: DEFAULT_SEARCH.patience },
    { name: "browsing", value: "model", description: "browsing model of the exposure: rbp, or cascade (stops at a relevant document with ERR's probability)", kind: { type: "choice", values: ["rbp", "cascade"] }, default: DEFAULT_SEARCH.browsing },
    { name: "exposure", value: "how", description: `ε: sampled (estimated from the --runs rankings) or exact (every ranking prefix read; pools of at most ${EXACT_MAX_POOL})`, kind: { type: "choice", values: ["sampled", "exact"] }, default: DEFAULT_SEARCH.exposure },
    { name: "temperature", short: "t", value: "t", description: "temperature P_token is read and drawn at (0 = greedy)", kind: { type: "real", min: 0 }, default: DEFAULT_SEARCH.temperature },
    { name: "k", short: "k", value: "list", description: "k of nDCG@k (a k above the pool: nDCG of the whole ranking)", kind: { type: "list", whole: true, min: 1 }, default: DEFAULT_SEARCH.ks },
    { name: "permutations", value: "n", description: "each pool measured again in n other orders (position bias: order_ee_l)", kind: { type: "whole", min: 0 }, default: DEFAULT_SEARCH.permutations },
    { name: "dry-run", description: "print how many P_token readings the measurement needs, measuring nothing", kind: { type: "switch" } },
    { name: "prune", value: "p", description: "option paths less probable than p are not followed when P_token is read (their mass is lost)", kind: { type: "real", min: 0, max: 0.999999 }, default: DEFAULT_SEARCH.prune },
  ],
  metrics: [
    { name: "ee_l", meaning: "EE-L = ‖ε − ε*‖²: distance of the expected exposure from the exposure-fair target (mean over queries)", better: "lower" },
    { name: "ee_d", meaning: "EE-D = ‖ε‖²: disparity of the exposure (unequal = high)", better: "lower" },
    { name: "ee_r", meaning: "EE-R = εᵀε*: exposure put on relevant documents", better: "higher" },
    { name: "normalised.ee_r", meaning: "EE-R / ‖ε*‖² (1 = the target's own relevance)", better: "higher" },
    { name: "normalised.ee_d", meaning: "EE-D / the disparity of one fixed ranking (1 = deterministic)" },
    { name: "ndcg", meaning: "nDCG@k of the drawn rankings (mean over queries of the mean; sd = mean spread over rankings)", better: "higher" },
    { name: "atvd", meaning: "mean TV(P_token, P_task) over ranks and rankings", better: "lower" },
    { name: "volatility", meaning: "how the model's bets at one rank change across rankings beyond the target's own change" },
    { name: "concentration", meaning: "mean max P_token at a rank" },
    { name: "marginal_tvd", meaning: "TV between the documents drawn at a rank and the mean P_task there", better: "lower" },
    { name: "leak", meaning: "mean probability outside the remaining labels", better: "lower" },
    { name: "order_ee_l", meaning: "--permutations: mean ‖ε − ε with the pool re-ordered‖² (position bias)", better: "lower" },
  ],
  settings(v: TaskOptionValues): SearchTaskSettings {
    const data = text(v.data);
    if (!data) throw new InputError("task search needs --data DIR: the folder of a BEIR, TREC, NFCorpus or Cranfield collection as downloaded");
    const ks = v.k as number[];
    return {
      run: { ...DEFAULT_SEARCH, runs: v.runs ?? DEFAULT_SEARCH.runs, seed: v.seed, patience: v.patience as number, browsing: v.browsing as Browsing, temperature: v.temperature as number, prune: v.prune as number, ks, exposure: v.exposure as SearchSettings["exposure"], permutations: v.permutations as number, ...(v.save !== false && typeof v.out === "string" ? { out: v.out } : {}) },
      data: {
        data,
        ...(text(v.layout) ? { layout: v.layout as Layout } : {}),
        split: text(v.split) ?? "test",
        ...(text(v.qrels) ? { qrels: text(v.qrels) } : {}),
        ...(text(v.docs) ? { docs: text(v.docs) } : {}),
        ...(text(v.queries) ? { queries: text(v.queries) } : {}),
        pool: v.pool as number,
        docChars: v.docChars as number,
        seed: v.seed,
        ...(opt(v.limit) !== undefined ? { limit: opt(v.limit) } : {}),
        ...(opt(v.sample) !== undefined ? { sample: opt(v.sample) } : {}),
      },
    };
  },
  async load(s: SearchTaskSettings): Promise<TaskData<SearchData>> {
    const data = await loadSearch(s.data);
    const largest = Math.max(...data.queries.map((q) => q.pool.length));
    if (s.run.exposure === "exact" && largest > EXACT_MAX_POOL) throw new InputError(`--exposure exact reads every ranking prefix: a pool of ${largest} needs up to ${exactReadings(largest)} P_token readings per query; use --pool ${EXACT_MAX_POOL} or fewer, or --exposure sampled`);
    return { data, contexts: data.queries.map((q) => ({ id: q.id })), notes: data.notes };
  },
  units: (d, s) => d.data.queries.length * s.run.runs * (1 + s.run.permutations),
  async measure(model, d, s, env) {
    const r = await runSearch(model, d.data, s.run, { ...(env.backend ? { backend: env.backend } : {}), ...(env.onUnit ? { onUnit: env.onUnit } : {}), ...(env.signal ? { signal: env.signal } : {}) });
    return { ...r, settings: { ...r.settings, pool: s.data.pool, doc_chars: s.data.docChars, split: s.data.split, ...(s.data.limit !== undefined ? { limit: s.data.limit } : {}), ...(s.data.sample !== undefined ? { sample: s.data.sample } : {}) } };
  },
  async estimate(models, d, s) {
    const calls = (1 + s.run.permutations) * d.data.queries.reduce((n, q) => n + (q.pool.length - 1) * s.run.runs + (s.run.exposure === "exact" ? exactReadings(q.pool.length) : 0), 0);
    const json = { models: models.length, queries: d.data.queries.length, runs: s.run.runs, distributions_per_model: calls };
    return { json, text: [`${s.run.permutations ? `(1 + ${s.run.permutations} re-orderings) × ` : ""}${d.data.queries.length} queries × ${s.run.runs} rankings × (pool − 1) ranks${s.run.exposure === "exact" ? " + every ranking prefix (--exposure exact, at most)" : ""} = ${calls} P_token readings per model (${models.length} model${models.length === 1 ? "" : "s"}); the last rank of a ranking needs none`] };
  },
  stored: searchStored,
  table: searchTable,
  plots: (results) => [
    { spec: exposureSpec(results), caption: "each document's expected exposure ε (y) against its target exposure ε* (x): on the dashed diagonal the model spreads exposure as the exposure-fair policy does" },
    { spec: exposureByQuerySpec(results), caption: "per query: the target exposure ε* of its documents (grey steps, highest first) and each model's expected exposure ε (points)" },
    { spec: eeLossSpec(results), caption: "EE-L = ‖ε − ε*‖² per query (0 = the target exactly)" },
  ],
  describe: (r) => `search · ${r.model} · ${r.data.layout}, ${r.data.queries} queries, pool ${r.data.pool}, ${String(r.settings.runs)} rankings each, EE-L ${r.metrics.ee_l.toFixed(4)}`,
};
