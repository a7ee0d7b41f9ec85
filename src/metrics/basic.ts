// Distances and information measures over plain arrays in support order. Pure; no normalisation is applied.

/** Total variation distance ½ Σ |a_i − b_i|. */
export function tv(a: readonly number[], b: readonly number[]): number {
  sameLength(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / 2;
}

/** Shannon entropy in nats, −Σ p_i ln p_i, with 0·ln 0 = 0. */
export function entropy(p: readonly number[]): number {
  let h = 0; // starting from +0 keeps a point mass at +0 rather than −0
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h;
}

/** Kullback–Leibler divergence KL(p‖q) = Σ p_i ln(p_i/q_i) in nats; terms with p_i = 0 are 0; Infinity when q_i = 0 < p_i. */
export function kl(p: readonly number[], q: readonly number[]): number {
  sameLength(p, q);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const qi = q[i]!;
    if (pi <= 0) continue;
    if (qi <= 0) return Infinity;
    s += pi * Math.log(pi / qi);
  }
  return s;
}

/** Arithmetic mean; NaN for an empty array (callers decide what an empty input means). */
export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Element-wise mean of equal-length vectors (q̄ = mean_t q_t). */
export function meanVector(vs: readonly (readonly number[])[]): number[] {
  const first = vs[0];
  if (!first) return [];
  const out = new Array<number>(first.length).fill(0);
  for (const v of vs) {
    sameLength(first, v);
    for (let i = 0; i < v.length; i++) out[i]! += v[i]!;
  }
  return out.map((x) => x / vs.length);
}

function sameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new RangeError(`vectors of different lengths (${a.length} and ${b.length})`);
}

/**
 * Bounds on the entropy (nats) of a next-token distribution of which only the top k probabilities are known
 * (remote servers' top_logprobs). The hidden mass m = 1 − Σ shown can sit on no token more probable than the
 * least probable shown one, p_min: the entropy is lowest when m is packed into ⌊m/p_min⌋ tokens of p_min plus a
 * remainder, and highest when m is spread evenly over the R tokens not shown (R = vocabulary size − k; unknown
 * vocabulary → no upper bound, null).
 */
export function entropyBoundsTopK(shown: readonly number[], vocabSize?: number): [number, number | null] {
  const visible = shown.filter((p) => p > 0);
  const h = visible.reduce((s, p) => s - p * Math.log(p), 0);
  const m = Math.max(0, 1 - visible.reduce((a, b) => a + b, 0));
  if (m === 0 || visible.length === 0) return [h, m === 0 ? h : null];
  const pMin = Math.min(...visible);
  const n = Math.floor(m / pMin);
  const r = m - n * pMin;
  const lo = h + n * pMin * -Math.log(pMin) + (r > 0 ? -r * Math.log(r) : 0);
  const rest = vocabSize !== undefined ? vocabSize - visible.length : 0;
  const hi = rest > 0 ? h + m * Math.log(rest / m) : null;
  return [lo, hi === null ? null : Math.max(lo, hi)];
}
