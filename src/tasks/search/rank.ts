// One ranking drawn from the model, one position at a time: the model sees the query and the labelled pool; at each
// rank P_token is read exactly over the labels of the documents not yet shown, through the choice core's
// scoreState (the scoring port of `ptalign run`: every tokenisation, leak recorded, temperature and sampler
// applied, every backend kind), a document is drawn from it, and its label is written into the model's answer
// before the next rank is read ("Ranking: C, A,"): the documents already shown stay in context. The last
// document needs no choice.
//
// Why scoreState and not the protocol loop itself: the loop's support is fixed for a run, a ranking's shrinks at
// every rank. The answers so far are part of the prefill, tokenised as the prompt is (the loop would append the
// token path it scored; both spell the same text).

import type { Model } from "../../backends/index.ts";
import type { PromptParts } from "../../backends/types.ts";
import { DELIMITER, SEPARATOR } from "../../protocols/prompt.ts";
import { drawIndex, type Rng } from "../../rng.ts";
import { letterLabel } from "../choice/permute.ts";
import { scoreState } from "../choice/score.ts";
import type { SearchQuery } from "./data.ts";
import { targetStep } from "./exposure.ts";

export const SEARCH_PREFILL = "Ranking:";

/** Labels A, B, …, Z, AA, AB, … (the choice core's letters). */
export const docLabel = (position: number): string => letterLabel(position);

/** The prompt at a rank: the query, the labelled pool, and the labels written so far. */
export function searchPrompt(q: SearchQuery, shown: readonly number[] = []): PromptParts {
  const docs = q.pool.map((d, i) => `[${docLabel(i)}] ${d.text}`).join("\n");
  return {
    user: `Query: ${q.text}\n\nDocuments:\n${docs}\n\nRank the documents from the most to the least relevant to the query. Write their labels separated by commas, most relevant first.`,
    prefill: SEARCH_PREFILL + shown.map((i) => `${SEPARATOR}${docLabel(i)}${DELIMITER}`).join(""),
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
  seed: number;
}

/** Draws one ranking of the query's pool; `key` names the ranking (a sim model's noise is drawn from it per rank). */
export async function drawRanking(model: Model, q: SearchQuery, s: RankSettings, rng: Rng, key: string): Promise<Ranking> {
  const grades = q.pool.map((d) => d.grade);
  let remaining = q.pool.map((_, i) => i);
  const shown: number[] = [];
  const steps: RankStep[] = [];
  while (remaining.length > 1) {
    // A sim model follows P_task of this rank; token and text models read the prompt.
    const got = await scoreState(model, searchPrompt(q, shown), remaining.map(docLabel), targetStep(grades, remaining), s, `${key}/rank ${shown.length + 1}`);
    if (got.ptoken === null) return { steps, order: null, reason: `rank ${shown.length + 1}: ${got.reason}` };
    const pick = remaining[drawIndex(got.ptoken, rng)]!;
    steps.push({ remaining, ptoken: got.ptoken, leak: got.leak, pick });
    shown.push(pick);
    remaining = remaining.filter((i) => i !== pick);
  }
  return { steps, order: [...shown, remaining[0]!] };
}
