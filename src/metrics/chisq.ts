// Chi-square survival function P(X ≥ x) for X ~ χ²(df), i.e. the regularised upper incomplete gamma Q(df/2, x/2).
import { createRequire } from "node:module";

// jstat ships no type declarations; load it through require with the two functions we use typed here, rather than a
// global `declare module "jstat"` that could clash with another folder's declaration.
interface JStatSubset {
  gammaln(x: number): number;
  chisquare: { cdf(x: number, dof: number): number };
}
const jStat = createRequire(import.meta.url)("jstat") as JStatSubset;

/**
 * P(χ²_df ≥ x). jstat offers only the cdf, and 1 − cdf underflows to 0 once the p-value drops below ~1e-16
 * (e.g. x = 100, df = 4 gives 0 instead of 9.8e-21). In the upper tail (x/2 ≥ df/2 + 1) we therefore evaluate Q
 * directly by its continued fraction (modified Lentz, run to convergence, with jstat's ln Γ); below that Q ≥ ~0.3 and
 * 1 − cdf loses nothing that matters.
 */
export function chi2Survival(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const a = df / 2;
  const z = x / 2;
  if (z < a + 1) return Math.min(1, Math.max(0, 1 - jStat.chisquare.cdf(x, df)));
  return upperGammaCF(a, z);
}

/** Q(a, z) by the continued fraction of Numerical Recipes §6.2 (gcf), valid and fast for z ≥ a + 1. */
function upperGammaCF(a: number, z: number): number {
  const TINY = 1e-300;
  let b = z + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-z + a * Math.log(z) - jStat.gammaln(a)) * h;
}
