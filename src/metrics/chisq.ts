// Chi-square survival function P(X ≥ x) for X ~ χ²(df) = Q(df/2, x/2), the regularised upper incomplete gamma.
// stdlib computes Q directly (not as 1 − P), so p-values far in the tail (x = 100, df = 4: 9.8e-21) do not underflow
// to 0 as jstat's 1 − cdf does below ~1e-16.
import { lazyRequire } from "../lazyRequire.ts";

const gammainc = lazyRequire<typeof import("@stdlib/math-base-special-gammainc")>("@stdlib/math-base-special-gammainc");

export function chi2Survival(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return gammainc()(x / 2, df / 2, true, true);
}
