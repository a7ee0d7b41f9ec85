// Statistics of the answers actually drawn (p̂) against the target p: TV, Pearson chi-square, Wasserstein-1.
import { InputError } from "../errors.ts";
import type { Target } from "../types.ts";
import { tv } from "./basic.ts";
import { chi2Survival } from "./chisq.ts";

/**
 * Stand-in for an infinite chi-square (a sample on an answer with p_i = 0): JSON has no Infinity, and
 * JSON.stringify(Infinity) would silently write null into a field typed as number. Number.MAX_VALUE round-trips.
 */
export const CHI2_INFINITE = Number.MAX_VALUE;

/**
 * Cochran's rule for the chi-square approximation (Cochran 1954, Biometrics 10:417–451): every expected count ≥ 1 and
 * at most 20% of them below 5. docs/metrics.md; the metrics chi2_min_expected and chi2_small_cells (chi2Cells.ts).
 */
export const COCHRAN = { min: 1, large: 5, smallShare: 0.2 } as const;

/** The expected counts n·p_i over the answers with p_i > 0: the smallest, and the share below 5. null when n = 0. */
export function expectedCells(n: number, probs: readonly number[]): { min: number; small: number } | null {
  const cells = probs.filter((p) => p > 0).map((p) => n * p);
  if (n === 0 || cells.length === 0) return null;
  return { min: Math.min(...cells), small: cells.filter((e) => e < COCHRAN.large).length / cells.length };
}

export interface SampleStats {
  /** Samples per answer, in support order. */
  counts: number[];
  /** Number of samples counted (null samples excluded). */
  n: number;
  /** null when there are no samples (n = 0): no evidence either way, not a perfect fit. */
  sample_tvd: number | null;
  chi2: number | null;
  chi2_p: number | null;
  w1: number | null;
}

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The support as numbers when every answer is a plain decimal (e.g. "3", "-1", "2.5"), else null. */
export function numericSupport(support: readonly string[]): number[] | null {
  const out: number[] = [];
  for (const key of support) {
    const s = key.trim();
    if (!DECIMAL_RE.test(s)) return null;
    const v = Number(s);
    if (!Number.isFinite(v)) return null;
    out.push(v);
  }
  return out;
}

/**
 * Wasserstein-1 between two distributions on the real points `values` (any order, ties allowed):
 * Σ_j |A(x_(j)) − B(x_(j))| · (x_(j+1) − x_(j)) over the sorted points, A and B the CDFs. In the units of `values`.
 */
export function wasserstein1(values: readonly number[], a: readonly number[], b: readonly number[]): number {
  if (values.length !== a.length || values.length !== b.length) throw new RangeError("wasserstein1: vectors of different lengths");
  const order = values.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
  let ca = 0;
  let cb = 0;
  let w = 0;
  for (let j = 0; j < order.length - 1; j++) {
    const i = order[j]!;
    ca += a[i]!;
    cb += b[i]!;
    w += Math.abs(ca - cb) * (values[order[j + 1]!]! - values[i]!);
  }
  return w;
}

/**
 * Pearson goodness of fit of `counts` to `p`. Answers with p_i = 0 are left out of the statistic and of the degrees of
 * freedom (df = #{p_i > 0} − 1); a count on such an answer makes the fit impossible: chi2 = CHI2_INFINITE, p = 0.
 * df = 0 (a point-mass target) gives p = 1. n = 0 gives chi2 = 0, p = 1 (no evidence against the fit).
 */
export function chiSquare(counts: readonly number[], p: readonly number[]): { chi2: number; chi2_p: number; df: number } {
  const n = counts.reduce((s, c) => s + c, 0);
  let chi2 = 0;
  let categories = 0;
  let impossible = false;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const o = counts[i]!;
    if (pi > 0) {
      categories++;
      if (n > 0) {
        const e = n * pi;
        chi2 += ((o - e) * (o - e)) / e;
      }
    } else if (o > 0) impossible = true;
  }
  const df = Math.max(0, categories - 1);
  if (impossible) return { chi2: CHI2_INFINITE, chi2_p: 0, df };
  // A finite but overflowing statistic (p_i tiny but > 0) is clamped the same way.
  if (chi2 > CHI2_INFINITE) chi2 = CHI2_INFINITE;
  return { chi2, chi2_p: df === 0 ? 1 : chi2Survival(chi2, df), df };
}

/**
 * Sample statistics of drawn answers against the target. null samples (model output outside the support) are ignored
 * and not counted in n. A sample that is a string outside the support is a caller bug or a corrupt file: InputError.
 * With no samples (n = 0) the empirical distribution is undefined: sample_tvd, chi2, chi2_p and w1 are null (a
 * recorded P_token without samples, e.g. `metrics` without --samples, is no evidence of a fit).
 */
export function sampleStats(target: Target, samples: readonly (string | null)[]): SampleStats {
  const index = new Map<string, number>();
  target.support.forEach((key, i) => index.set(key, i));
  const counts = new Array<number>(target.support.length).fill(0);
  for (const s of samples) {
    if (s === null) continue;
    const i = index.get(s);
    if (i === undefined) {
      throw new InputError(`sample ${JSON.stringify(s)} is not an answer of the target; record answers outside the support as null`);
    }
    counts[i]!++;
  }
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return { counts, n, sample_tvd: null, chi2: null, chi2_p: null, w1: null };
  const values = numericSupport(target.support);
  const phat = counts.map((c) => c / n);
  const { chi2, chi2_p } = chiSquare(counts, target.probs);
  return {
    counts,
    n,
    sample_tvd: tv(phat, target.probs),
    chi2,
    chi2_p,
    w1: values ? wasserstein1(values, phat, target.probs) : null,
  };
}
