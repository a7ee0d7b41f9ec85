// Recommendation metrics over P_token on a candidate list. Pure; docs/tasks.md carries every formula.

import { kl } from "../../metrics/basic.ts";

/** Smoothing of the model side in KL terms (Steck 2018): q̃ = (1 − α) q + α p, so KL stays finite. */
export const KL_ALPHA = 0.01;

/** 1-based rank of candidate h when sorted by q descending, ties counted against it: 1 + #{j ≠ h : q_j ≥ q_h}. */
export function rankOf(q: readonly number[], h: number): number {
  let r = 1;
  for (let j = 0; j < q.length; j++) if (j !== h && q[j]! >= q[h]!) r++;
  return r;
}

export const hitRate = (rank: number, k: number) => (rank <= k ? 1 : 0);
/** NDCG@k with one relevant item: 1 / log2(rank + 1) if rank ≤ k, else 0 (the ideal DCG is 1). */
export const ndcg = (rank: number, k: number) => (rank <= k ? 1 / Math.log2(rank + 1) : 0);

/** KL(p ‖ (1 − α) q + α p). */
export function smoothedKl(p: readonly number[], q: readonly number[], alpha = KL_ALPHA): number {
  return kl(p, q.map((v, i) => (1 - alpha) * v + alpha * p[i]!));
}

/** An item's category distribution: 1/|cats| on each of its categories. */
export function categoryVector(itemCats: readonly string[], categories: readonly string[]): number[] {
  return categories.map((c) => (itemCats.includes(c) ? 1 / itemCats.length : 0));
}

/**
 * Calibration (Steck 2018): p(c|u) = mean over history items of their category distribution; q(c|u) = Σ_i
 * P_token(i) · p(c|i) over the list; C_KL = KL(p ‖ (1 − α) q + α p).
 */
export function calibrationKl(historyCats: readonly (readonly number[])[], listCats: readonly (readonly number[])[], ptoken: readonly number[], alpha = KL_ALPHA): number {
  const C = historyCats[0]?.length ?? listCats[0]?.length ?? 0;
  const p = new Array<number>(C).fill(0);
  for (const v of historyCats) v.forEach((x, c) => (p[c]! += x / historyCats.length));
  const q = new Array<number>(C).fill(0);
  listCats.forEach((v, i) => v.forEach((x, c) => (q[c]! += ptoken[i]! * x)));
  return smoothedKl(p, q, alpha);
}

/** Gini coefficient of non-negative counts: Σ_i (2i − n − 1) x_(i) / (n Σ x), x sorted ascending, i = 1..n; 0 if Σ x = 0. */
export function gini(counts: readonly number[]): number {
  const x = [...counts].sort((a, b) => a - b);
  const n = x.length;
  const total = x.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  let s = 0;
  x.forEach((v, i) => (s += (2 * (i + 1) - n - 1) * v));
  return s / (n * total);
}

/** Average ranks (1-based) with ties sharing the mean of their positions. */
export function ranks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/**
 * Spearman's rank correlation (Pearson correlation of average ranks). Both vectors constant: 1 (the same, all-tied
 * ranking); exactly one constant: 0.
 */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  if (saa === 0 && sbb === 0) return 1;
  if (saa === 0 || sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** Index of the largest value, first on ties. */
export function argmax(q: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < q.length; i++) if (q[i]! > q[best]!) best = i;
  return best;
}
