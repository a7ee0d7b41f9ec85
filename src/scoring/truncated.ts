// A next-token distribution that lists only the top n tokens (llama-server with --n-probs): the exact trie scorer
// still knows every candidate token, so the only question is how much mass the unlisted candidates could hold.
// That bound is what the scorer reports as `unknown` (docs/backends.md, "--n-probs").
import { InputError } from "../errors.ts";
import type { TokenDistribution } from "../backends/types.ts";

/**
 * Upper bound on the total probability of `unlisted` candidate tokens absent from a top-n list: each is at most the
 * smallest listed probability (the list is the top n), and together they hold at most what the list leaves, 1 − Σ listed.
 */
export function unlistedMass(dist: TokenDistribution, unlisted: number): number {
  if (unlisted <= 0) return 0;
  let shown = 0;
  let least = Infinity;
  for (const p of dist.probs.values()) {
    shown += p;
    if (p < least) least = p;
  }
  return Math.min(Math.max(0, 1 - shown), unlisted * (least === Infinity ? 1 : least));
}

/** A partial distribution cannot be tempered or biased: both renormalise over the whole vocabulary. */
export function checkPartial(dist: TokenDistribution, temperature: number, biased: boolean): void {
  if (dist.complete) return;
  if (temperature !== 1 || biased) {
    throw new InputError(`--n-probs lists only part of the vocabulary, so --temperature must be 1 (or 0, greedy)${biased ? " and there can be no logit bias" : ""}: both need the normaliser over every token; drop --n-probs for exact scoring at any temperature`);
  }
}
