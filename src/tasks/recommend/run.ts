// `ptalign task recommend`: for each user, the model sees the history and a labelled candidate list; P_token over
// the candidate labels is read exactly (scoring's option trie, like the sampling task), then ranked and compared
// with P_task. Stability: the same list in permuted orders (position bias) and the same list under other seeds.

import type { TaskResult } from "../../types/task.ts";
import { closeModel, isSimModel, isTextBackend, openModel, type Model, type ModelOptions } from "../../backends/index.ts";
import type { PromptParts, TokenBackend } from "../../backends/types.ts";
import type { SimModel } from "../../backends/sim.ts";
import { InputError, interruption } from "../../errors.ts";
import { applyTemperature, makeRng, normalise, type Rng } from "../../rng.ts";
import { assertExpressible, optionTexts, scoreOptions } from "../../scoring/index.ts";
import { tv } from "../../metrics/basic.ts";
import { shuffled, type RecData, type RecUser } from "./data.ts";
import { recommendLeakWarning } from "../warnings.ts";
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
  /** Option paths whose probability falls below this are not followed (scoring's prune); their mass is lost. */
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
  /** P_token over the candidates (shown order), run 0; null when the user could not be scored. */
  ptoken: number[] | null;
  leak: number;
  /** Rank of the held-out item; the worst rank (the list's length) when the user could not be scored. */
  rank: number;
  /** Why the user could not be scored (absent when it was). */
  unscored?: string;
}

export interface RecommendMetrics {
  hr: Record<string, number>;
  ndcg: Record<string, number>;
  /** Mean TV(P_token, P_task) over users; null without P_task (MovieLens). */
  tv: number | null;
  /** Mean KL(P_task ‖ (1 − α)P_token + α P_task); null without P_task. */
  kl: number | null;
  /** Over scored users; null when none could be scored (so are coverage and gini). */
  calibration_kl: number | null;
  coverage: number | null;
  gini: number | null;
  stability: { permutation: number | null; seeds: number | null };
  leak: number;
  /** User × run evaluations that could not be scored (counted in hr/ndcg with the worst rank, left out of the rest). */
  unscored?: number;
}

export interface RecommendResult {
  version: 1;
  task: "recommend";
  model: string;
  settings: Record<string, unknown>;
  data: { source: RecData["source"]; users: number; items: number; categories: number; candidates: number; ties?: RecData["ties"] };
  metrics: RecommendMetrics;
  users: UserRecord[];
  /** What the numbers cannot say (off-format, values clipped, users left out); printed by the CLI. */
  warnings?: string[];
  /** Set when Ctrl-C stopped it: the numbers cover the finished units only (types/task.ts TaskResult.interrupted). */
  interrupted?: TaskResult["interrupted"];
  id?: string;
}

/** The P_task a sim model is given on MovieLens data (no exact P_task there): the history's category mix per item. */
function proxyTarget(data: RecData, user: RecUser, order: readonly number[]): number[] {
  const C = data.categories;
  const hist = new Array<number>(C.length).fill(0);
  for (const i of user.history) categoryVector(data.items[i]!.categories, C).forEach((x, c) => (hist[c]! += x));
  return normalise(order.map((i) => Math.max(1e-6, categoryVector(data.items[i]!.categories, C).reduce((s, x, c) => s + x * hist[c]!, 0))));
}

/** P_token over a list, or why it cannot be had for this user (the run goes on without it). */
type Scored = { ptoken: number[]; leak: number } | { ptoken: null; leak: number; reason: string };

interface Scorer {
  (user: RecUser, order: readonly number[], rng: Rng): Promise<Scored>;
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
    const texts = optionTexts(labels, " ", REC_DELIMITER);
    try {
      assertExpressible(backend.vocab, labels, texts);
    } catch (err) {
      if (err instanceof InputError) return { ptoken: null, leak: 1, reason: err.message };
      throw err;
    }
    const prompt = recommendPrompt(data, user, order, s.labels);
    await backend.prepare?.(prompt);
    const context = backend.encodePrompt(prompt);
    const T = s.temperature;
    const scored = await scoreOptions(backend, context, texts, { temperature: T === 0 ? 1 : T, prune: s.prune });
    const total = scored.raw.reduce((a, b) => a + b, 0);
    if (total === 0) return { ptoken: null, leak: scored.leak, reason: `the model puts no probability on any candidate label (leak ${scored.leak.toFixed(6)}); paths below --prune ${s.prune} were cut: a smaller --prune may reach them` };
    const q = normalise(scored.raw);
    return { ptoken: T === 0 ? applyTemperature(q, 0) : q, leak: scored.leak };
  };
}

/**
 * With `--labels titles` every candidate's label must be a non-empty title of its own in its list: an empty label is
 * a prefix of every answer (it would take P_token 1 whenever it is a candidate), and two equal titles cannot be told
 * apart. Both are faults of the data, not of the model, so they are refused before anything is scored (the MovieLens
 * loader repairs them itself, with a warning naming the rows). Titles equal after NFC normalisation are equal.
 */
export function assertTitleLabels(data: RecData): void {
  const blank = [...new Set(data.users.flatMap((u) => u.candidates))].filter((i) => data.items[i]!.title.trim() === "");
  if (blank.length) throw new InputError(`--labels titles: ${blank.length} candidate item${blank.length > 1 ? "s have" : " has"} an empty title (item ${blank.slice(0, 5).map((i) => data.items[i]!.id).join(", ")}); an empty label would match every answer: give every item a title, or use --labels letters`);
  for (const u of data.users) {
    const seen = new Map<string, number>();
    for (const i of u.candidates) {
      const key = data.items[i]!.title.normalize("NFC");
      const other = seen.get(key);
      if (other !== undefined) throw new InputError(`--labels titles: user ${u.id}'s candidates ${data.items[other]!.id} and ${data.items[i]!.id} share the title "${data.items[i]!.title}" and cannot be told apart by it: give the items distinct titles, or use --labels letters`);
      seen.set(key, i);
    }
  }
}

/** The re-orderings of a user's candidate list the permutation stability uses (seeded by seed and user). */
export function permutationsFor(user: RecUser, seed: number, count: number): number[][] {
  return Array.from({ length: count }, (_, p) => shuffled(user.candidates, makeRng(`${seed}/${user.id}/permutation ${p}`)));
}

const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function runRecommend(modelSpec: string, data: RecData, settings: RecommendSettings, opts: { backend?: ModelOptions; model?: Model; onUser?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<RecommendResult> {
  if (data.users.length === 0) throw new InputError("no users to evaluate");
  const longest = Math.max(...data.users.map((u) => u.candidates.length));
  const bigK = settings.ks.find((k) => k > longest);
  if (bigK !== undefined) throw new InputError(`--k ${bigK} is more than the ${longest} candidates of a list: hr@${bigK} would be 1 for any model; use k ≤ ${longest} (or more --candidates)`);
  if (settings.labels === "letters" && longest > 26) throw new InputError(`--candidates ${longest} is more than the 26 letter labels A–Z; use --candidates 26 or fewer, or --labels titles`);
  if (settings.labels === "titles") assertTitleLabels(data);
  if (!(settings.prune >= 0 && settings.prune < 1)) throw new InputError(`--prune must be a number from 0 to below 1 (got ${settings.prune})`);
  const model = opts.model ?? (await openModel(modelSpec, opts.backend));
  try {
    if (isTextBackend(model)) throw new InputError(`${modelSpec} is scored at the text level; the recommendation task needs a token-level model (GGUF) or sim:`);
    const score = isSimModel(model) ? simScorer(model, data, settings.temperature) : tokenScorer(model, data, settings);
    const C = data.categories;
    const records: UserRecord[] = [];
    // rank: of the held-out item; an unscored user (no `scored`) is a miss at every k, whatever k.
    type Row = { rank: number; leak: number; scored?: { tv: number | null; kl: number | null; cal: number; top: number } };
    const perRun: Row[][] = [];
    const permCorr: number[] = [];
    const seedCorr: number[] = [];
    const total = data.users.length * (settings.runs + settings.permutations);
    let done = 0;
    const signal = opts.signal;
    let evaluated = 0;
    for (let r = 0; r < settings.runs && !signal?.aborted; r++) {
      const rows: Row[] = [];
      for (const [u, user] of data.users.entries()) {
        // Ctrl-C: the users evaluated so far make the result (a sim model never yields: let the handler run).
        if (signal) await new Promise((resolve) => setImmediate(resolve));
        if (signal?.aborted) break;
        evaluated++;
        const order = user.candidates;
        const got = await score(user, order, makeRng(`${settings.seed + r}/${user.id}`));
        opts.onUser?.(++done, total);
        if (got.ptoken === null) {
          // Recorded with the worst rank, counted as a miss (a model that gives no answer does not hit), and left out
          // of the distribution metrics and the stability correlations.
          rows.push({ rank: order.length, leak: got.leak });
          if (r === 0) {
            records.push({ user: user.id, candidates: order.map((i) => data.items[i]!.id), held_out: data.items[user.held_out]!.id, ptask: user.ptask ?? null, ptoken: null, leak: got.leak, rank: order.length, unscored: got.reason });
            done += settings.permutations;
          }
          continue;
        }
        const { ptoken, leak } = got;
        const h = order.indexOf(user.held_out);
        const rank = rankOf(ptoken, h);
        const cal = calibrationKl(user.history.map((i) => categoryVector(data.items[i]!.categories, C)), order.map((i) => categoryVector(data.items[i]!.categories, C)), ptoken);
        rows.push({
          rank,
          leak,
          scored: { tv: user.ptask ? tv(ptoken, user.ptask) : null, kl: user.ptask ? smoothedKl(user.ptask, ptoken) : null, cal, top: order[argmax(ptoken)]! },
        });
        if (r === 0) {
          records.push({ user: user.id, candidates: order.map((i) => data.items[i]!.id), held_out: data.items[user.held_out]!.id, ptask: user.ptask ?? null, ptoken, leak, rank });
          for (const [p, perm] of permutationsFor(user, settings.seed, settings.permutations).entries()) {
            const permuted = await score(user, perm, makeRng(`${settings.seed}/${user.id}/permutation ${p}/model`));
            opts.onUser?.(++done, total);
            if (permuted.ptoken === null) continue;
            // P_token per item, in the original order, from the permuted presentation.
            const back = order.map((i) => permuted.ptoken[perm.indexOf(i)]!);
            permCorr.push(spearman(ptoken, back));
          }
        } else {
          const first = records[u]!.ptoken;
          if (first) seedCorr.push(spearman(first, ptoken));
        }
      }
      perRun.push(rows);
    }
    const all = perRun.flat();
    const scored = all.flatMap((x) => (x.scored ? [x.scored] : []));
    const withTask = scored.filter((x) => x.tv !== null);
    const candidateItems = new Set(data.users.flatMap((u) => u.candidates));
    const counts = new Map<number, number>([...candidateItems].map((i) => [i, 0]));
    for (const x of scored) counts.set(x.top, (counts.get(x.top) ?? 0) + 1);
    const recommended = [...counts.values()].filter((c) => c > 0).length;
    const unscored = all.length - scored.length;
    const metrics: RecommendMetrics = {
      hr: Object.fromEntries(settings.ks.map((k) => [String(k), avg(all.map((x) => (x.scored ? hitRate(x.rank, k) : 0)))])),
      ndcg: Object.fromEntries(settings.ks.map((k) => [String(k), avg(all.map((x) => (x.scored ? ndcg(x.rank, k) : 0)))])),
      tv: withTask.length ? avg(withTask.map((x) => x.tv!)) : null,
      kl: withTask.length ? avg(withTask.map((x) => x.kl!)) : null,
      calibration_kl: scored.length ? avg(scored.map((x) => x.cal)) : null,
      coverage: scored.length ? recommended / candidateItems.size : null,
      gini: scored.length ? gini([...counts.values()]) : null,
      stability: { permutation: permCorr.length ? avg(permCorr) : null, seeds: seedCorr.length ? avg(seedCorr) : null },
      leak: avg(all.map((x) => x.leak)),
      ...(unscored ? { unscored } : {}),
    };
    const name = isSimModel(model) ? model.spec : modelSpec;
    const shortest = Math.min(...data.users.map((u) => u.candidates.length));
    const interrupted = signal?.aborted ? { signal: interruption(signal).signal, done: evaluated, total: data.users.length * settings.runs, unit: "user evaluations" } : undefined;
    const warnings = [
      ...(data.notes ?? []),
      ...(unscored ? [`${name}: ${unscored} of ${all.length} user evaluations could not be scored (recorded with the worst rank; first: user ${records.find((x) => x.unscored)?.user ?? "?"}: ${records.find((x) => x.unscored)?.unscored ?? "in a later run"})`] : []),
      ...(shortest < 2 ? [`${name}: some lists have one candidate: their hit is certain, so hr/ndcg cannot discriminate there`] : []),
      recommendLeakWarning(name, metrics.leak),
    ].filter((w): w is string => w !== undefined);
    return {
      version: 1,
      task: "recommend",
      model: name,
      settings: { ...settings },
      data: { source: data.source, users: data.users.length, items: data.items.length, categories: C.length, candidates: data.users[0]!.candidates.length, ...(data.ties ? { ties: data.ties } : {}) },
      metrics,
      users: records,
      ...(warnings.length ? { warnings } : {}),
      ...(interrupted ? { interrupted } : {}),
    };
  } finally {
    if (!opts.model) await closeModel(model);
  }
}
