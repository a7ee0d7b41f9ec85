import { DenseProbs, logSumExp } from "../backends/dense.ts";
import type { Logits, TokenDistribution } from "../backends/types.ts";
import { drawIndex, type Rng } from "../rng.ts";

/** Probability of a token at temperature T, from a distribution at temperature 1. */
export type TokenProb = (token: number) => number;

/**
 * softmax(logit / T) over the vocabulary = p^(1/T) / Σ_v p_v^(1/T): computable from probabilities alone.
 * Only T > 0; temperature 0 is handled by the protocols (greedy over the answers).
 * With raw logits (the embedded engine) it is one pass over a Float32Array: log Σ_v exp(l_v / T).
 */
export function tempered(dist: TokenDistribution, temperature: number): TokenProb {
  if (dist.logits) {
    const { values } = dist.logits;
    const inv = 1 / temperature;
    const logZ = temperature === 1 ? dist.logits.logZ : logSumExp(values, inv);
    return (t) => {
      const l = values[t];
      return l === undefined ? 0 : Math.exp(l * inv - logZ);
    };
  }
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

/** Entropy (nats) of the full distribution at temperature T: −Σ_v r_v log r_v, r = softmax(logit / T). */
export function fullEntropy(dist: TokenDistribution, temperature: number): number {
  if (dist.logits) {
    // H = log Z_T − Σ_v r_v · l_v / T, one pass over the logits.
    const { values } = dist.logits;
    const inv = 1 / temperature;
    const logZ = temperature === 1 ? dist.logits.logZ : logSumExp(values, inv);
    let mean = 0;
    for (let v = 0; v < values.length; v++) {
      const x = values[v]! * inv;
      const r = Math.exp(x - logZ);
      if (r > 0) mean += r * x;
    }
    return logZ - mean;
  }
  const prob = tempered(dist, temperature);
  let h = 0;
  for (const token of dist.probs.keys()) {
    const r = prob(token);
    if (r > 0) h -= r * Math.log(r);
  }
  return h;
}

/** The distribution with logit bias b_v: p_v·exp(b_v) / (1 + Σ_b p_b (exp(b_b) − 1)). */
export function biased(dist: TokenDistribution, bias: ReadonlyMap<number, number>): TokenDistribution {
  let z = 1;
  for (const [token, b] of bias) z += (dist.probs.get(token) ?? 0) * (Math.exp(b) - 1);
  if (dist.logits) {
    const values = dist.logits.values.slice();
    for (const [token, b] of bias) if (token >= 0 && token < values.length) values[token] = values[token]! + b;
    const logits: Logits = { values, logZ: dist.logits.logZ + Math.log(z) };
    return { probs: new DenseProbs(logits), complete: dist.complete, logits };
  }
  const probs = new Map<number, number>();
  for (const [token, p] of dist.probs) probs.set(token, (p * Math.exp(bias.get(token) ?? 0)) / z);
  return { ...dist, probs };
}

/** The most probable token (the first in the distribution's order on ties). */
export function argmaxToken(dist: TokenDistribution): number {
  if (dist.logits) {
    const { values } = dist.logits;
    let best = 0;
    for (let v = 1; v < values.length; v++) if (values[v]! > values[best]!) best = v;
    return best;
  }
  let best = -1;
  let bestP = -1;
  for (const [token, p] of dist.probs) if (p > bestP) [best, bestP] = [token, p];
  return best;
}

/**
 * One token drawn from softmax(logit / T) with one uniform draw of `rng`. A Map is walked in its own order (the
 * engine's, by probability); raw logits in token-id order.
 */
export function sampleToken(dist: TokenDistribution, temperature: number, rng: Rng): number {
  if (dist.logits) {
    const { values } = dist.logits;
    const inv = 1 / temperature;
    let max = -Infinity;
    for (let v = 0; v < values.length; v++) if (values[v]! > max) max = values[v]!;
    const w = new Float64Array(values.length);
    let total = 0;
    for (let v = 0; v < values.length; v++) total += w[v] = Math.exp((values[v]! - max) * inv);
    let u = rng() * total;
    let last = 0;
    for (let v = 0; v < w.length; v++) {
      if (w[v]! <= 0) continue;
      last = v;
      u -= w[v]!;
      if (u < 0) return v;
    }
    return last;
  }
  const prob = tempered(dist, temperature);
  const tokens = [...dist.probs.keys()]; // the engine's order (by probability) is fixed for a given distribution
  return tokens[drawIndex(tokens.map(prob), rng)]!;
}

/** Entropy (nats, T = 1) and largest probability of the full distribution (codegen's per-token profile). */
export function profile(dist: TokenDistribution): { entropy: number; top: number } {
  if (dist.logits) {
    const { values, logZ } = dist.logits;
    let max = -Infinity;
    for (let v = 0; v < values.length; v++) if (values[v]! > max) max = values[v]!;
    return { entropy: fullEntropy(dist, 1), top: Math.exp(max - logZ) };
  }
  let h = 0;
  let top = 0;
  for (const p of dist.probs.values()) {
    if (p > 0) h -= p * Math.log(p);
    if (p > top) top = p;
  }
  return { entropy: h, top };
}
