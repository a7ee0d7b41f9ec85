// The deployed sampler's next-token distribution: temperature, top-k, top-p and min-p applied exactly to the full
// distribution, in the order the chosen engine applies them (docs/scoring.md, "Sampler settings"):
//   llama.cpp — common/common.h default `samplers`: penalties, dry, top_n_sigma, top_k, typ_p, top_p, min_p, xtc,
//               temperature: the truncations see the untempered distribution, the temperature comes last.
//   vllm      — vllm/v1/sample/sampler.py: temperature first, then the argmax-invariant processors (min_p), then
//               top_k and top_p (apply_top_k_top_p).
// Pure functions over probability vectors; the protocols and scoring call them with whatever the backend returns.
import { drawIndex, type Rng } from "../rng.ts";
import type { TokenDistribution } from "../backends/types.ts";

export type SamplerOrder = "llama.cpp" | "vllm";
export const SAMPLER_ORDERS: readonly SamplerOrder[] = ["llama.cpp", "vllm"];

export interface SamplerSettings {
  /** Keep the k most probable tokens; 0 or absent = off. */
  topK?: number;
  /** Keep the smallest set of most probable tokens whose mass reaches p; 1 or absent = off. */
  topP?: number;
  /** Keep tokens with probability ≥ minP × the largest; 0 or absent = off. */
  minP?: number;
  order: SamplerOrder;
}

/** True when the settings truncate anything (otherwise the sampler is the tempered softmax). */
export const truncates = (s: SamplerSettings | undefined): s is SamplerSettings => !!s && ((s.topK ?? 0) > 0 || (s.topP ?? 1) < 1 || (s.minP ?? 0) > 0);

/** The sampler of flag-like values (0 / 1 = off), undefined when nothing is truncated: what a result records as settings.sampler. */
export function samplerOf(s: { topK?: number; topP?: number; minP?: number; order: SamplerOrder }): SamplerSettings | undefined {
  const sampler: SamplerSettings = { order: s.order, ...(s.topK ? { topK: s.topK } : {}), ...(s.topP !== undefined && s.topP < 1 ? { topP: s.topP } : {}), ...(s.minP ? { minP: s.minP } : {}) };
  return truncates(sampler) ? sampler : undefined;
}

/** p^(1/T) renormalised over the kept tokens (T > 0), computed in a scaled form that cannot underflow for all tokens. */
function temper(p: Float64Array, T: number): void {
  let max = 0;
  for (const x of p) if (x > max) max = x;
  if (max === 0) return;
  let z = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) z += p[i] = Math.pow(p[i]! / max, 1 / T);
  for (let i = 0; i < p.length; i++) p[i] = p[i]! / z;
}

function renormalise(p: Float64Array): void {
  let z = 0;
  for (const x of p) z += x;
  if (z > 0) for (let i = 0; i < p.length; i++) p[i] = p[i]! / z;
}

/** Indices of the non-zero entries, most probable first (ties: lower index first, a fixed order). */
function ranked(p: Float64Array): number[] {
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) idx.push(i);
  return idx.sort((a, b) => p[b]! - p[a]! || a - b);
}

function topK(p: Float64Array, k: number): void {
  if (!(k > 0)) return;
  const order = ranked(p);
  for (const i of order.slice(k)) p[i] = 0;
  renormalise(p);
}

/** The smallest prefix of the ranked tokens whose mass reaches p (the token that crosses p is kept; at least one). */
function topP(p: Float64Array, top: number): void {
  if (!(top < 1)) return;
  let cum = 0;
  let cut = false;
  for (const i of ranked(p)) {
    if (cut) p[i] = 0;
    else if ((cum += p[i]!) >= top) cut = true;
  }
  renormalise(p);
}

function minP(p: Float64Array, m: number): void {
  if (!(m > 0)) return;
  let max = 0;
  for (const x of p) if (x > max) max = x;
  for (let i = 0; i < p.length; i++) if (p[i]! < m * max) p[i] = 0;
  renormalise(p);
}

/**
 * The distribution the deployed sampler draws from, given the full next-token distribution at temperature 1 (a new
 * array; entries sum to 1). T must be > 0 (greedy decoding is handled by the protocols).
 */
export function applySampler(probs: ArrayLike<number>, temperature: number, s: SamplerSettings): Float64Array {
  const p = Float64Array.from(probs as ArrayLike<number>);
  renormalise(p);
  if (s.order === "llama.cpp") {
    topK(p, s.topK ?? 0);
    topP(p, s.topP ?? 1);
    minP(p, s.minP ?? 0);
    temper(p, temperature);
  } else {
    temper(p, temperature);
    minP(p, s.minP ?? 0);
    topK(p, s.topK ?? 0);
    topP(p, s.topP ?? 1);
  }
  return p;
}

/** The full distribution of a backend step as a dense vector over the vocabulary (ids absent from a map have 0). */
function dense(dist: TokenDistribution, size: number): Float64Array {
  if (dist.logits) {
    const { values, logZ } = dist.logits;
    return Float64Array.from(values, (l) => Math.exp(l - logZ));
  }
  const out = new Float64Array(size);
  for (const [t, p] of dist.probs) if (t >= 0 && t < size) out[t] = p;
  return out;
}

/** Token probabilities under the deployed sampler: the function scoring reads instead of the tempered softmax. */
export function sampledProb(dist: TokenDistribution, vocabSize: number, temperature: number, s: SamplerSettings): (token: number) => number {
  let size = dist.logits ? dist.logits.values.length : vocabSize;
  if (!dist.logits) for (const t of dist.probs.keys()) if (t >= size) size = t + 1;
  const p = applySampler(dense(dist, size), temperature, s);
  return (t) => p[t] ?? 0;
}

/** A token drawn from the deployed sampler's distribution (free generation in the batch protocol). */
export function sampleWithSampler(dist: TokenDistribution, vocabSize: number, temperature: number, s: SamplerSettings, rng: Rng): number {
  const size = dist.logits ? dist.logits.values.length : vocabSize;
  return drawIndex(Array.from(applySampler(dense(dist, size), temperature, s)), rng);
}
