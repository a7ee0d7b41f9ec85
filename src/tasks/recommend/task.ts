// `task recommend` as a Task (src/tasks/task.ts): its options, the data (MovieLens or a controlled world), and a
// thin adapter over runRecommend. The numbers and the result layout are run.ts's.

import type { Task, TaskData, TaskOptionValues, TaskTable } from "../task.ts";
import { modelLabel } from "../task.ts";
import { DEFAULT_WORLD, generateWorld, type RecData } from "./data.ts";
import { loadMovieLens, TIE_RULES, type TieRule } from "./movielens.ts";
import { recommendViewSpec } from "./plots.ts";
import { DEFAULT_RECOMMEND, runRecommend, type RecommendResult, type RecommendSettings } from "./run.ts";

/** Where the users come from: a MovieLens directory, or a world generated from the seed. */
export type RecSource =
  | { kind: "movielens"; dir: string; seed: number; users: number; history: number; candidates: number; ties: TieRule }
  | { kind: "world"; seed: number; items: number; categories: number; users: number; history: number; candidates: number; alpha: number };

export interface RecommendTaskSettings {
  run: RecommendSettings;
  source: RecSource;
}

export function recommendTable(results: readonly RecommendResult[]): TaskTable {
  const ks = (results[0]?.settings.ks as number[] | undefined) ?? [1];
  const rows = results.map((r) => [
    modelLabel(r.model),
    ...ks.map((k) => r.metrics.hr[String(k)]),
    r.metrics.ndcg[String(ks.at(-1))],
    r.metrics.tv,
    r.metrics.kl,
    r.metrics.calibration_kl,
    r.metrics.coverage,
    r.metrics.gini,
    r.metrics.stability.permutation,
    r.metrics.stability.seeds,
    r.metrics.leak,
  ]);
  return { header: ["model", ...ks.map((k) => `hr@${k}`), `ndcg@${ks.at(-1)}`, "tv", "kl", "calib_kl", "coverage", "gini", "stab_perm", "stab_seed", "leak"], rows };
}

const num = (v: unknown) => v as number;
const opt = (v: unknown) => v as number | undefined;

export const recommendTask: Task<RecommendTaskSettings, RecData, RecommendResult> = {
  name: "recommend",
  description: "recommendation: P_token over a candidate list, ranked; HR/NDCG, TV/KL to P_task, calibration, coverage, Gini, stability",
  examples: ["ptalign task recommend --model sim:e --model sim:d", "ptalign task recommend --model ./model.gguf --data ./ml-latest-small --users 50 --ties item-id"],
  options: [
    { name: "data", value: "dir", description: "MovieLens directory (ratings.csv + movies.csv, or u.data + u.item); default: a controlled world from --seed", kind: { type: "text" } },
    { name: "users", value: "n", description: "users (world: generated; MovieLens: sampled)", kind: { type: "whole", min: 1 } },
    { name: "items", value: "n", description: "items in the world", kind: { type: "whole", min: 2 }, default: DEFAULT_WORLD.items },
    { name: "categories", value: "n", description: "categories in the world", kind: { type: "whole", min: 2 }, default: DEFAULT_WORLD.categories },
    { name: "history", value: "n", description: "history items shown", kind: { type: "whole", min: 1 } },
    { name: "candidates", value: "n", description: "candidates per list (the held-out item + negatives)", kind: { type: "whole", min: 2 } },
    { name: "alpha", value: "a", description: "Dirichlet concentration of the world's user preferences", kind: { type: "real", min: 1e-3 }, default: DEFAULT_WORLD.alpha },
    { name: "temperature", short: "t", value: "t", description: "temperature P_token is read at", kind: { type: "real", min: 0 }, default: 1 },
    { name: "permutations", value: "n", description: "random re-orderings of each list (position-bias stability)", kind: { type: "whole", min: 0 }, default: 3 },
    { name: "k", short: "k", value: "list", description: "k of HR@k and NDCG@k", kind: { type: "list", whole: true, min: 1 }, default: [1, 3, 5] },
    { name: "labels", value: "mode", description: "candidates labelled by letters (A, B, ...) or by title: letters or titles (letter and title are accepted too)", kind: { type: "choice", values: ["letters", "titles"], aliases: { letter: "letters", title: "titles" } }, default: "letters" },
    { name: "prune", value: "p", description: "option paths less probable than p are not followed when P_token is read (their mass is lost)", kind: { type: "real", min: 0, max: 0.999999 }, default: DEFAULT_RECOMMEND.prune },
    { name: "ties", value: "rule", description: `MovieLens: the held-out rating among those tied at a user's latest timestamp: ${TIE_RULES.join(", ")} (docs/tasks.md)`, kind: { type: "choice", values: TIE_RULES }, default: "file" },
  ],
  metrics: [
    { name: "hr", meaning: "hit rate at k: the held-out item ranked ≤ k by P_token (per k)", better: "higher" },
    { name: "ndcg", meaning: "NDCG at k of the held-out item (per k)", better: "higher" },
    { name: "tv", meaning: "mean TV(P_token, P_task) over users (null without P_task)", better: "lower" },
    { name: "kl", meaning: "mean KL(P_task ‖ smoothed P_token) over users (null without P_task)", better: "lower" },
    { name: "calibration_kl", meaning: "Steck's calibration KL between the history's and the list's category mix", better: "lower" },
    { name: "coverage", meaning: "distinct items recommended (top-1) over distinct candidate items" },
    { name: "gini", meaning: "Gini coefficient of the recommendation counts over candidate items" },
    { name: "stability.permutation", meaning: "Spearman's ρ of P_token per item under re-ordered lists (position bias)", better: "higher" },
    { name: "stability.seeds", meaning: "Spearman's ρ of P_token between runs", better: "higher" },
    { name: "leak", meaning: "mean probability outside the candidate labels", better: "lower" },
  ],
  settings(v: TaskOptionValues): RecommendTaskSettings {
    const source: RecSource =
      typeof v.data === "string"
        ? { kind: "movielens", dir: v.data, seed: v.seed, users: opt(v.users) ?? 50, history: opt(v.history) ?? 10, candidates: opt(v.candidates) ?? 10, ties: v.ties as TieRule }
        : { kind: "world", seed: v.seed, items: num(v.items), categories: num(v.categories), users: opt(v.users) ?? DEFAULT_WORLD.users, history: opt(v.history) ?? DEFAULT_WORLD.history, candidates: opt(v.candidates) ?? DEFAULT_WORLD.candidates, alpha: num(v.alpha) };
    return {
      run: { temperature: num(v.temperature), runs: v.runs ?? 2, seed: v.seed, permutations: num(v.permutations), ks: v.k as number[], labels: v.labels as RecommendSettings["labels"], prune: num(v.prune) },
      source,
    };
  },
  async load({ source: s }: RecommendTaskSettings): Promise<TaskData<RecData>> {
    const data =
      s.kind === "movielens"
        ? await loadMovieLens(s.dir, { seed: s.seed, users: s.users, history: s.history, candidates: s.candidates, minRatings: 5, ties: s.ties })
        : generateWorld({ seed: s.seed, items: s.items, categories: s.categories, users: s.users, history: s.history, candidates: s.candidates, alpha: s.alpha });
    return { data, contexts: data.users.map((u) => ({ id: u.id })), notes: data.notes ?? [] };
  },
  units: (d, s) => d.data.users.length * (s.run.runs + s.run.permutations),
  measure: (model, d, s, env) => runRecommend(model, d.data, s.run, { ...(env.backend ? { backend: env.backend } : {}), ...(env.onUnit ? { onUser: env.onUnit } : {}), ...(env.signal ? { signal: env.signal } : {}) }),
  table: recommendTable,
  plots: (results) => [{ spec: recommendViewSpec(results), caption: "accuracy (NDCG@k) against diversity (coverage); point size = stability under candidate re-ordering" }],
  describe: (r) => `recommend · ${r.model} · ${r.data.source}, ${r.data.users} users, ${r.data.candidates} candidates`,
};
