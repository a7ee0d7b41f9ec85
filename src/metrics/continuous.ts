// Sample tests of numbers against a continuous distribution: one-sample Kolmogorov–Smirnov against the CDF,
// Wasserstein-1 against the distribution, and the "bad dice" peers' recipe (two-sample KS against reference draws,
// chi-square with sparse tail cells merged). Pure functions; formulas in docs/metrics.md, "Continuous targets".
import { lazyRequire } from "../lazyRequire.ts";
import { chi2Survival } from "./chisq.ts";

// Loaded on first use (src/lazyRequire.ts).
const kstest = lazyRequire<typeof import("@stdlib/stats-kstest")>("@stdlib/stats-kstest");
const pKolmogorov = lazyRequire<typeof import("@stdlib/stats-kstest/lib/marsaglia.js")>("@stdlib/stats-kstest/lib/marsaglia.js");

type Fn = (x: number) => number;

/**
 * One-sample two-sided KS: D = sup_x |F_n(x) − F(x)| and its exact p-value (Marsaglia–Tsang–Wang, from stdlib's
 * kstest; the same exact distribution scipy's kstest uses by default for n ≤ 10,000). null with no values.
 */
export function ksOneSample(values: readonly number[], cdf: Fn): { ks: number; ks_p: number } | null {
  if (values.length === 0) return null;
  const r = kstest()([...values], (x: number) => cdf(x));
  return { ks: r.statistic, ks_p: clamp01(r.pValue) };
}

/**
 * Two-sample two-sided KS: D = sup |F_a − F_b|; p-value from the Kolmogorov distribution of D_en with
 * en = round(n·m/(n+m)) — scipy's ks_2samp(method="asymp").
 */
export function ksTwoSample(a: readonly number[], b: readonly number[]): { ks: number; ks_p: number } | null {
  if (a.length === 0 || b.length === 0) return null;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const en = Math.round((x.length * y.length) / (x.length + y.length));
  return { ks: d, ks_p: clamp01(1 - pKolmogorov()(d, Math.max(1, en))) };
}

/**
 * W1 = ∫ |F_n(x) − F(x)| dx between the empirical distribution of `values` and a continuous distribution, by adaptive
 * Simpson quadrature on the pieces where F_n is constant, split where F crosses F_n so that each integrand is smooth.
 * The infinite ends are cut at the 1e−12 and 1 − 1e−12 quantiles. null with no values or when E|X| is infinite.
 */
export function w1Distribution(values: readonly number[], cdf: Fn, quantile: Fn, hasMean: boolean): number | null {
  if (values.length === 0 || !hasMean) return null;
  const x = [...values].sort((p, q) => p - q);
  const n = x.length;
  const lo = Math.min(x[0]!, quantile(1e-12));
  const hi = Math.max(x[n - 1]!, quantile(1 - 1e-12));
  let w = integrate((t) => cdf(t), lo, x[0]!);
  let i = 0;
  while (i < n) {
    let k = i;
    while (k < n && x[k] === x[i]) k++; // ties: F_n jumps by their count
    const a = x[i]!;
    const b = k < n ? x[k]! : hi;
    const level = k / n;
    const f = (t: number): number => Math.abs(level - cdf(t));
    if (k < n) {
      const cross = quantile(level);
      w += cross > a && cross < b ? integrate(f, a, cross) + integrate(f, cross, b) : integrate(f, a, b);
    } else w += integrate(f, a, b);
    i = k;
  }
  return w;
}

/**
 * Pearson chi-square with the peers' tail merging: starting from each end, adjacent cells are pooled until the pooled
 * expected count n·p reaches 5 (a short remainder joins its inner neighbour); df = cells − 1. Cells with p = 0 and no
 * count are dropped first. null when n = 0 or fewer than 2 cells remain.
 */
export function chiSquareMerged(counts: readonly number[], p: readonly number[]): { chi2: number; chi2_p: number; df: number; cells: number } | null {
  const n = counts.reduce((s, c) => s + c, 0);
  if (n === 0) return null;
  const cells: { o: number; e: number }[] = [];
  counts.forEach((o, i) => {
    if (p[i]! > 0 || o > 0) cells.push({ o, e: n * p[i]! });
  });
  const merged = mergeTails(cells);
  if (merged.length < 2) return null;
  let chi2 = 0;
  for (const c of merged) chi2 += c.e > 0 ? ((c.o - c.e) * (c.o - c.e)) / c.e : c.o > 0 ? Infinity : 0;
  const df = merged.length - 1;
  if (!Number.isFinite(chi2)) return { chi2: Number.MAX_VALUE, chi2_p: 0, df, cells: merged.length };
  return { chi2, chi2_p: chi2Survival(chi2, df), df, cells: merged.length };
}

function mergeTails(cells: { o: number; e: number }[]): { o: number; e: number }[] {
  const out = cells.map((c) => ({ ...c }));
  const pool = (from: number, to: number): void => {
    out[to]!.o += out[from]!.o;
    out[to]!.e += out[from]!.e;
    out.splice(from, 1);
  };
  while (out.length > 1 && out[0]!.e < 5) pool(0, 1);
  while (out.length > 1 && out[out.length - 1]!.e < 5) pool(out.length - 1, out.length - 2);
  return out;
}

/** Numbers drawn from a distribution by its quantile function at `n` uniform points from `u` (the caller's seeded RNG). */
export function referenceSample(quantile: Fn, n: number, u: () => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = u();
    while (v === 0) v = u(); // quantile(0) is −∞ on unbounded supports
    out.push(quantile(v));
  }
  return out;
}

const clamp01 = (p: number): number => Math.min(1, Math.max(0, p));

/** Adaptive Simpson to an absolute tolerance of 1e−10 per piece (depth-limited). */
function integrate(f: Fn, a: number, b: number): number {
  if (!(b > a)) return 0;
  const m = (a + b) / 2;
  const fa = f(a);
  const fb = f(b);
  const fm = f(m);
  return simpson(f, a, b, fa, fm, fb, ((b - a) / 6) * (fa + 4 * fm + fb), 1e-10, 40);
}

function simpson(f: Fn, a: number, b: number, fa: number, fm: number, fb: number, whole: number, tol: number, depth: number): number {
  const m = (a + b) / 2;
  const lm = (a + m) / 2;
  const rm = (m + b) / 2;
  const flm = f(lm);
  const frm = f(rm);
  const left = ((m - a) / 6) * (fa + 4 * flm + fm);
  const right = ((b - m) / 6) * (fm + 4 * frm + fb);
  const diff = left + right - whole;
  if (depth <= 0 || Math.abs(diff) <= 15 * tol) return left + right + diff / 15;
  return simpson(f, a, m, fa, flm, fm, left, tol / 2, depth - 1) + simpson(f, m, b, fm, frm, fb, right, tol / 2, depth - 1);
}
