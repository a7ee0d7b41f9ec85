// One ranking drawn from the model, one position at a time: the model sees the query and the labelled pool; at each
// rank P_token is read exactly over the labels of the documents not yet shown (every tokenisation, leak recorded),
// a document is drawn from it, and its label joins the context (the documents already shown stay in context, as
// the sequential protocol keeps earlier answers). The last document needs no choice.
//
// Why not the protocol loop (src/protocols/loop.ts): its support is fixed for a run, while a ranking's support
// shrinks at every rank. The scoring is the same (scoring's option trie for token models, the server's scores for
// text models, the family's step for sim models).

import { isSimModel, isTextBackend, type Model } from "../../backends/index.ts";
import type { PromptParts } from "../../backends/types.ts";
import { applyTemperature, drawIndex, normalise, type Rng } from "../../rng.ts";
import { assertExpressible, optionTexts, scoreOptions } from "../../scoring/index.ts";
import type { SearchQuery } from "./data.ts";
import { targetStep } from "./exposure.ts";

export const SEARCH_PREFILL = "Ranking:";
export const SEARCH_SEPARATOR = " ";
export const SEARCH_DELIMITER = "\n";

/** Labels A, B, …, Z, AA, AB, … (spreadsheet columns). */
export function docLabel(position: number): string {
  let s = "";
  for (let n = position + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

export function searchPrompt(q: SearchQuery): PromptParts {
  const docs = q.pool.map((d, i) => `[${docLabel(i)}] ${d.text}`).join("\n");
  return {
    user: `Query: ${q.text}\n\nDocuments:\n${docs}\n\nRank the documents from the most to the least relevant to the query. Write one label per line, most relevant first.`,
    prefill: SEARCH_PREFILL,
  };
}

export interface RankStep {
  /** Pool indices of the documents still to rank, in pool order. */
  remaining: number[];
  /** P_token over `remaining` (normalised over them, at the task's temperature: the policy the draw follows). */
  ptoken: number[];
  /** Mass on text that is none of the remaining labels. */
  leak: number;
  /** Pool index drawn. */
  pick: number;
}

export type Ranking = { steps: RankStep[]; order: number[] } | { steps: RankStep[]; order: null; reason: string };

export interface RankSettings {
  temperature: number;
  prune: number;
}

/** What the model says at one rank, given the pool indices still to rank and the ones already written. */
type Scorer = (remaining: readonly number[], shown: readonly number[], rng: Rng) => Promise<{ ptoken: number[]; leak: number; paths?: (number[] | null)[] } | { ptoken: null; leak: number; reason: string }>;

function scorerFor(model: Model, q: SearchQuery, s: RankSettings): { score: Scorer; advance?: (path: number[]) => void } {
  const labels = q.pool.map((_, i) => docLabel(i));
  const T = s.temperature;
  const tempered = (p: number[]) => (T === 0 ? applyTemperature(p, 0) : T === 1 ? p : applyTemperature(p, T));
  if (isSimModel(model)) {
    // The family's step with P_task of this rank as its p (no history: the support shrinks, the sim's `repeat`
    // has nothing to count).
    return {
      score: async (remaining, _shown, rng) => {
        const target = { support: remaining.map((i) => labels[i]!), probs: targetStep(q.pool.map((d) => d.grade), remaining) };
        const { ptoken, leak } = model.step(target, [], rng);
        return { ptoken: tempered(normalise(ptoken)), leak };
      },
    };
  }
  const texts = optionTexts(labels, SEARCH_SEPARATOR, SEARCH_DELIMITER);
  const prompt = searchPrompt(q);
  const none = (leak: number, unknown: number) => ({ ptoken: null, leak, reason: `the model puts no probability on any remaining label (leak ${leak.toFixed(6)}${unknown > 0 ? `; paths below --prune ${s.prune} were cut: a smaller --prune may reach them` : ""})` });
  if (isTextBackend(model)) {
    return {
      score: async (remaining, shown) => {
        const scored = await model.score(prompt, shown.map((i) => texts[i]!).join(""), remaining.map((i) => texts[i]!), { prune: s.prune });
        const total = scored.raw.reduce((a, b) => a + b, 0);
        if (total === 0) return none(scored.leak, scored.unknown);
        return { ptoken: tempered(normalise(scored.raw)), leak: scored.leak };
      },
    };
  }
  assertExpressible(model.vocab, labels, texts);
  let context: number[] | null = null;
  return {
    score: async (remaining) => {
      if (context === null) {
        await model.prepare?.(prompt);
        context = model.encodePrompt(prompt);
      }
      const scored = await scoreOptions(model, context, remaining.map((i) => texts[i]!), { temperature: T === 0 ? 1 : T, prune: s.prune });
      const total = scored.raw.reduce((a, b) => a + b, 0);
      if (total === 0) return none(scored.leak, scored.unknown);
      return { ptoken: T === 0 ? applyTemperature(normalise(scored.raw), 0) : normalise(scored.raw), leak: scored.leak, paths: scored.paths };
    },
    advance: (path) => void (context = [...context!, ...path]),
  };
}

/** Draws one ranking of the query's pool. */
export async function drawRanking(model: Model, q: SearchQuery, s: RankSettings, rng: Rng): Promise<Ranking> {
  const { score, advance } = scorerFor(model, q, s);
  let remaining = q.pool.map((_, i) => i);
  const shown: number[] = [];
  const steps: RankStep[] = [];
  while (remaining.length > 1) {
    const got = await score(remaining, shown, rng);
    if (got.ptoken === null) return { steps, order: null, reason: `rank ${shown.length + 1}: ${got.reason}` };
    const k = drawIndex(got.ptoken, rng);
    const pick = remaining[k]!;
    steps.push({ remaining, ptoken: got.ptoken, leak: got.leak, pick });
    if (advance) advance(got.paths![k]!);
    shown.push(pick);
    remaining = remaining.filter((i) => i !== pick);
  }
  return { steps, order: [...shown, remaining[0]!] };
}
