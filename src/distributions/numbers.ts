// Free-form numbers as models write them ("0.37", "-1.2e-1", "  3 ", "+.5"), and the bin of a continuous target
// that a number falls in. The bad-dice peers parse answers with float(); this accepts the same decimal and
// scientific forms (no "inf"/"nan", no thousands separators, no units), after trimming whitespace.
import type { Target } from "../types.ts";
import { answerText } from "./continuous.ts";

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number an answer text writes, or null when it is not a plain decimal (unparseable answers are recorded, not fatal). */
export function parseAnswerNumber(text: string): number | null {
  const s = text.trim();
  if (!NUMBER_RE.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/**
 * The support answer a number stands for: on a continuous target the bin it rounds into (ties to the upper bin, as
 * bins are [k·w − w/2, k·w + w/2)); on a numeric discrete target the answer equal to it. null outside the support.
 */
export function answerOfValue(target: Target, value: number): string | null {
  const c = target.continuous;
  if (c) {
    // toPrecision(12) first: 0.15·10 is 1.4999999999999998 in binary, and 0.15 belongs to the bin of 0.2.
    const k = Math.floor(Number((value * 10 ** c.precision).toPrecision(12)) + 0.5);
    const key = answerText(k, c.precision);
    return target.support.includes(key) ? key : null;
  }
  for (const key of target.support) if (parseAnswerNumber(key) === value) return key;
  return null;
}
