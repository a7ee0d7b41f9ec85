// Whether Pearson's chi-square p-value can be read at all: the chi-square distribution approximates the statistic only
// when the expected counts are not small. Cochran's rule (Cochran 1954, "Some methods for strengthening the common χ²
// tests", Biometrics 10:417–451): every expected count ≥ 1 and at least 80% of them ≥ 5. With 50,000 answers and
// 40 samples every expected count is 0.0008 and chi2_p means nothing. chi2_p keeps its formula (a metric's meaning
// never changes under its name); these two metrics say whether it holds, and the outputs print the caveat.
import { CHI2_INFINITE, COCHRAN, expectedCells } from "./samples.ts";
import { defineMetric, formatValue } from "./metric.ts";
import type { Metrics } from "../types.ts";

/** What the chi-square caveat reads (a Metrics object, or `metrics --samples`' sample tests). */
export type ChiFields = Readonly<Pick<Metrics, "chi2" | "chi2_min_expected" | "chi2_small_cells">>;

/** Cochran's rule on a metrics object; undefined when the metrics do not say (stored before these metrics, or no samples). */
export function cochranHolds(m: ChiFields): boolean | undefined {
  const min = m.chi2_min_expected;
  const small = m.chi2_small_cells;
  if (typeof min !== "number" || typeof small !== "number") return undefined;
  return min >= COCHRAN.min && small <= COCHRAN.smallShare;
}

/** chi2 as text: the infinite stand-in (a sample on an answer with p = 0, or an overflow) as "∞", never 1.79e308. */
export function chi2Text(chi2: number | null | undefined): string {
  if (chi2 === null || chi2 === undefined) return "—";
  return chi2 >= CHI2_INFINITE ? "∞ (an answer with p = 0 was drawn, or the statistic overflowed)" : formatValue(chi2, 2);
}

/** The run summary's words for chi2_p: the statistic and, when the approximation fails, why the p-value cannot be read. */
export function chi2Meaning(m: ChiFields): string {
  if (m.chi2 === null || m.chi2 === undefined) return "no samples";
  const stat = `Pearson chi2 = ${chi2Text(m.chi2)}`;
  // An impossible answer drawn makes p = 0 exactly, whatever the expected counts.
  if (m.chi2 >= CHI2_INFINITE || cochranHolds(m) !== false) return stat;
  return `${stat}; p unreliable: expected counts too small (smallest ${formatValue(m.chi2_min_expected, 2)}, ${Math.round(m.chi2_small_cells! * 100)}% of cells below ${COCHRAN.large}; Cochran's rule wants none below ${COCHRAN.min} and at most ${COCHRAN.smallShare * 100}% below ${COCHRAN.large}): draw more samples or merge answers`;
}

export const chi2MinExpected = defineMetric({
  name: "chi2_min_expected",
  meaning: "smallest expected count n·p_i of the chi-square (answers with p_i > 0)",
  direction: "higher",
  format: { digits: 2 },
  compute: (ctx) => {
    const s = ctx.samples();
    return expectedCells(s.n, ctx.target.probs)?.min ?? null;
  },
});

export const chi2SmallCells = defineMetric({
  name: "chi2_small_cells",
  meaning: "share of the chi-square's cells with an expected count below 5",
  direction: "lower",
  format: { digits: 3 },
  compute: (ctx) => {
    const s = ctx.samples();
    return expectedCells(s.n, ctx.target.probs)?.small ?? null;
  },
});
