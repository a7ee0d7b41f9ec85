import type { TokenDistribution } from "../backends/types.ts";

/** Probability of a token at temperature T, from a distribution at temperature 1. */
export type TokenProb = (token: number) => number;

/**
 * softmax(logit / T) over the vocabulary = p^(1/T) / Σ_v p_v^(1/T): computable from probabilities alone.
 * Only T > 0; temperature 0 is handled by the protocols (greedy over the answers).
 */
export function tempered(dist: TokenDistribution, temperature: number): TokenProb {
  const { probs } = dist;
  if (temperature === 1) return (t) => probs.get(t) ?? 0;
  const inv = 1 / temperature;
  // Scale by the largest probability first so that p^(1/T) cannot underflow for every token at small T.
  let max = 0;
  for (const p of probs.values()) if (p > max) max = p;
  if (max === 0) return () => 0;
  let z = 0;
  for (const p of probs.values()) z += Math.pow(p / max, inv);
  return (t) => {
    const p = probs.get(t);
    return p ? Math.pow(p / max, inv) / z : 0;
  };
}
