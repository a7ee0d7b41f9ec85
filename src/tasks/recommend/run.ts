// `ptalign task recommend`: for each user, the model sees the history and a labelled candidate list; P_token over
// the candidate labels is read exactly (scoring's option trie, like the sampling task), then ranked and compared
// with P_task. Stability: the same list in permuted orders (position bias) and the same list under other seeds.

import { closeModel, isSimModel, isTextBackend, openModel, type Model, type ModelOptions } from "../../backends/index.ts";
import type { PromptParts, TokenBackend } from "../../backends/types.ts";
import type { SimModel } from "../../backends/sim.ts";
import { InputError, RunError } from "../../errors.ts";
import { applyTemperature, makeRng, normalise, type Rng } from "../../rng.ts";
import { assertExpressible, optionTexts, scoreOptions } from "../../scoring/index.ts";
import { tv } from "../../metrics/basic.ts";
import { shuffled, type RecData, type RecUser } from "./data.ts";
import { argmax, calibrationKl, categoryVector, gini, hitRate, ndcg, rankOf, smoothedKl, spearman } from "./metrics.ts";

export type LabelMode = "letters" | "titles";

export interface RecommendSettings {
  temperature: number;
  /** Runs (seeds seed + r): the stability across seeds compares run r with run 0. */
  runs: number;
  seed: number;
  /** Random re-orderings of each candidate list (position-bias stability). */
  permutations: number;
  ks: number[];
  labels: LabelMode;
  prune: number;
}

export const DEFAULT_RECOMMEND: RecommendSettings = { temperature: 1, runs: 2, seed: 1, permutations: 3, ks: [1, 3, 5], labels: "letters", prune: 1e-7 };

/** What ends an answer: the model writes " B\n" (or " <title>\n"). */
export const REC_DELIMITER = "\n";
export const REC_PREFILL = "Answer:";

export function label(position: number, mode: LabelMode, title: string): string {
  if (mode === "titles") return title;
  let s = "";
  for (let n = position + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** The prompt for one user with the candidates in `order` (item indices). */
export function recommendPrompt(data: RecData, user: RecUser, order: readonly number[], mode: LabelMode): PromptParts {
  const hist = user.history.map((i) => `- ${data.items[i]!.title} (${data.items[i]!.categories.join(", ")})`).join("\n");
  const cands = order.map((i, k) => (mode === "letters" ? `${label(k, mode, "")}. ${data.items[i]!.title} (${data.items[i]!.categories.join(", ")})` : `- ${data.items[i]!.title} (${data.items[i]!.categories.join(", ")})`)).join("\n");
  const how = mode === "letters" ? "Answer with the letter of one candidate." : "Answer with the title of one candidate.";
  return {
    user: `A user's history, oldest first:\n${hist}\n\nWhich candidate will the user choose next?\n${cands}\n\n${how}`,
    prefill: REC_PREFILL,
  };
}

export interface UserRecord {
  user: string;
  /** Item ids in the order shown. */
  candidates: string[];
  held_out: string;
  ptask: number[] | null;
  /** P_token over the candidates (shown order), run 0. */
  ptoken: number[];
  leak: number;
  rank: number;
}

export interface RecommendMetrics {
  hr: Record<string, number>;
  ndcg: Record<string, number>;
  /** Mean TV(P_token, P_task) over users; null without P_task (MovieLens). */
  tv: number | null;
  /** Mean KL(P_task ‖ (1 − α)P_token + α P_task); null without P_task. */
  kl: number | null;
  calibration_kl: number;
  coverage: number;
  gini: number;
  stability: { permutation: number | null; seeds: number | null };
  leak: number;
}

export interface RecommendResult {
  version: 1;
  task: "recommend";
  model: string;
  settings: Record<string, unknown>;
  data: { source: RecData["source"]; users: number; items: number; categories: number; candidates: number };
  metrics: RecommendMetrics;
  users: UserRecord[];
  id?: string;
}

/** The P_task a sim model is given on MovieLens data (no exact P_task there): the history's category mix per item. */
function proxyTarget(data: RecData, user: RecUser, order: readonly number[]): number[] {
  const C = data.categories;
  const hist = new Array<number>(C.length).fill(0);
  for (const i of user.history) categoryVector(data.items[i]!.categories, C).forEach((x, c) => (hist[c]! += x));
  return normalise(order.map((i) => Math.max(1e-6, categoryVector(data.items[i]!.categories, C).reduce((s, x, c) => s + x * hist[c]!, 0))));
}

interface Scorer {
  (user: RecUser, order: readonly number[], rng: Rng): Promise<{ ptoken: number[]; leak: number }>;
}

function simScorer(model: SimModel, data: RecData, T: number): Scorer {
  return async (user, order, rng) => {
    const probs = user.ptask ? order.map((i) => user.ptask![user.candidates.indexOf(i)]!) : proxyTarget(data, user, order);
    const target = { support: order.map(String), probs: normalise(probs) };
    const { ptoken, leak } = model.step(target, [], rng);
    return { ptoken: applyTemperature(ptoken, T), leak };
  };
}

function tokenScorer(backend: TokenBackend, data: RecData, s: RecommendSettings): Scorer {
  return async (user, order) => {
    const labels = order.map((i, k) => label(k, s.labels, data.items[i]!.title));
    if (new Set(labels).size < labels.length) throw new InputError(`user ${user.id}: two candidates share the title "${labels.find((l, i) => labels.indexOf(l) !== i)}"; use --labels letters`);
    const texts = optionTexts(labels, " ", REC_DELIMITER);
    assertExpressible(backend.vocab, labels, texts);
    const prompt = recommendPrompt(data, user, order, s.labels);
    await backend.prepare?.(prompt);
    const context = backend.encodePrompt(prompt);
    const T = s.temperature;
    const scored = await scoreOptions(backend, context, texts, { temperature: T === 0 ? 1 : T, prune: s.prune });
    const total = scored.raw.reduce((a, b) => a + b, 0);
    if (total === 0) throw new RunError(`user ${user.id}: the model puts no probability on any candidate label (leak ${scored.leak.toFixed(3)})`);
    const q = normalise(scored.raw);
    return { ptoken: T === 0 ? applyTemperature(q, 0) : q, leak: scored.leak };
  };
}

/** The re-orderings of a user's candidate list the permutation stability uses (seeded by seed and user). */
export function permutationsFor(user: RecUser, seed: number, count: number): number[][] {
  return Array.from({ length: count }, (_, p) => shuffled(user.candidates, makeRng(`${seed}/${user.id}/permutation ${p}`)));
}

const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function runRecommend(modelSpec: string, data: RecData, settings: RecommendSettings, opts: { backend?: ModelOptions; model?: Model; onUser?: (done: number, total: number) => void } = {}): Promise<RecommendResult> {
  if (data.users.length === 0) throw new InputError("no users to evaluate");
  const model = opts.model ?? (await openModel(modelSpec, opts.backend));
  try {
    if (isTextBackend(model)) throw new InputError(`${modelSpec} is scored at the text level; the recommendation task needs a token-level model (GGUF) or sim:`);
    const score = isSimModel(model) ? simScorer(model, data, settings.temperature) : tokenScorer(model, data, settings);
    const C = data.categories;
    const records: UserRecord[] = [];
    const perRun: { rank: number; tv: number | null; kl: number | null; cal: number; top: number; leak: number }[][] = [];
    const permCorr: number[] = [];
    const seedCorr: number[] = [];
    const total = data.users.length * (settings.runs + settings.permutations);
    let done = 0;
    for (let r = 0; r < settings.runs; r++) {
      const rows: (typeof perRun)[number] = [];
      for (const [u, user] of data.users.entries()) {
        const order = user.candidates;
        const { ptoken, leak } = await score(user, order, makeRng(`${settings.seed + r}/${user.id}`));
        opts.onUser?.(++done, total);
        const h = order.indexOf(user.held_out);
        const rank = rankOf(ptoken, h);
        const cal = calibrationKl(user.history.map((i) => categoryVector(data.items[i]!.categories, C)), order.map((i) => categoryVector(data.items[i]!.categories, C)), ptoken);
        rows.push({
          rank,
          tv: user.ptask ? tv(ptoken, user.ptask) : null,
          kl: user.ptask ? smoothedKl(user.ptask, ptoken) : null,
          cal,
          top: order[argmax(ptoken)]!,
          leak,
        });
        if (r === 0) {
          records.push({ user: user.id, candidates: order.map((i) => data.items[i]!.id), held_out: data.items[user.held_out]!.id, ptask: user.ptask ?? null, ptoken, leak, rank });
          for (const [p, perm] of permutationsFor(user, settings.seed, settings.permutations).entries()) {
            const permuted = await score(user, perm, makeRng(`${settings.seed}/${user.id}/permutation ${p}/model`));
            opts.onUser?.(++done, total);
            // P_token per item, in the original order, from the permuted presentation.
            const back = order.map((i) => permuted.ptoken[perm.indexOf(i)]!);
            permCorr.push(spearman(ptoken, back));
          }
        } else {
          seedCorr.push(spearman(records[u]!.ptoken, ptoken));
        }
      }
      perRun.push(rows);
    }
    const all = perRun.flat();
    const withTask = all.filter((x) => x.tv !== null);
    const candidateItems = new Set(data.users.flatMap((u) => u.candidates));
    const counts = new Map<number, number>([...candidateItems].map((i) => [i, 0]));
    for (const x of all) counts.set(x.top, (counts.get(x.top) ?? 0) + 1);
    const recommended = [...counts.values()].filter((c) => c > 0).length;
    const metrics: RecommendMetrics = {
      hr: Object.fromEntries(settings.ks.map((k) => [String(k), avg(all.map((x) => hitRate(x.rank, k)))])),
      ndcg: Object.fromEntries(settings.ks.map((k) => [String(k), avg(all.map((x) => ndcg(x.rank, k)))])),
      tv: withTask.length ? avg(withTask.map((x) => x.tv!)) : null,
      kl: withTask.length ? avg(withTask.map((x) => x.kl!)) : null,
      calibration_kl: avg(all.map((x) => x.cal)),
      coverage: recommended / candidateItems.size,
      gini: gini([...counts.values()]),
      stability: { permutation: permCorr.length ? avg(permCorr) : null, seeds: seedCorr.length ? avg(seedCorr) : null },
      leak: avg(all.map((x) => x.leak)),
    };
    return {
      version: 1,
      task: "recommend",
      model: isSimModel(model) ? model.spec : modelSpec,
      settings: { ...settings },
      data: { source: data.source, users: data.users.length, items: data.items.length, categories: C.length, candidates: data.users[0]!.candidates.length },
      metrics,
      users: records,
    };
  } finally {
    if (!opts.model) await closeModel(model);
  }
}
