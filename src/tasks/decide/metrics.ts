// The decision task's own measures (docs/tasks.md, "task decide"). Pure functions over P_token and P_task.
//   choices13k literature: MSE of the model's P(B) against bRate, the correlation, and the share of problems where the
//     model is near-certain (top > 0.9) while people are split (the human top share ≤ 0.7; two options: bRate 0.3–0.7).
//   ChaosNLI (Nie et al. 2020, their src/evaluation/tools.py): Jensen–Shannon distance = scipy's jensenshannon, the
//     square root of the JS divergence in NATURAL log (scipy's default base), KL(human ‖ model) in nats with the model
//     clipped at 1e-15 and renormalised, and accuracy of the model's top label against the majority label.

import { kl } from "../../metrics/basic.ts";
import { bootstrapMean } from "../choice/aggregate.ts";
import type { ContextRecord, Estimate } from "../choice/types.ts";

/** ChaosNLI's normalize_dist: values below 1e-15 raised to 1e-15, then renormalised. */
export function clip15(q: readonly number[]): number[] {
  const c = q.map((v) => (Math.abs(v) < 1e-15 ? 1e-15 : v));
  const z = c.reduce((a, b) => a + b, 0);
  return c.map((v) => v / z);
}

/** Jensen–Shannon divergence in nats: ½ KL(p ‖ m) + ½ KL(q ‖ m), m = ½ (p + q). */
export function jsDivergence(p: readonly number[], q: readonly number[]): number {
  const m = p.map((v, i) => (v + q[i]!) / 2);
  return 0.5 * kl(p, m) + 0.5 * kl(q, m);
}

/** Jensen–Shannon distance as ChaosNLI reports it: √JSD with natural logs (scipy.spatial.distance.jensenshannon, base e), model clipped at 1e-15. */
export function jsDistance(human: readonly number[], model: readonly number[]): number {
  return Math.sqrt(Math.max(0, jsDivergence(human, clip15(model))));
}

/** The same distance with base-2 logs (bounded by 1): √(JSD_nats / ln 2). */
export function jsDistanceBits(human: readonly number[], model: readonly number[]): number {
  return Math.sqrt(Math.max(0, jsDivergence(human, clip15(model)) / Math.LN2));
}

/** Human top share at most this: people are split (two options: bRate from 0.3 to 0.7). */
export const SPLIT_TOP = 0.7;
/** Model top probability above this: near-certain. */
export const CERTAIN_TOP = 0.9;

/** Index of the largest value, first on ties. */
export function argmax(q: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < q.length; i++) if (q[i]! > q[best]!) best = i;
  return best;
}

/** The majority option's key: the data's majority label, else the target's unique largest option, else null (a tie). */
export function majorityKey(keys: readonly string[], target: readonly number[], given: unknown): string | null {
  if (typeof given === "string" && keys.includes(given)) return given;
  const top = Math.max(...target);
  const at = target.flatMap((v, i) => (v === top ? [i] : []));
  return at.length === 1 ? keys[at[0]!]! : null;
}

export interface DecideContextValues {
  /** Two options: the model's P of the second option (choices13k: gamble B) and the people's share (bRate). */
  p_b?: number;
  b_rate?: number;
  jsd: number;
  jsd_bits: number;
  /** The model's top probability; people split (top share ≤ 0.7); the model near-certain while they are. */
  top: number;
  split: boolean;
  overconfident: boolean;
  majority: string | null;
  /** The model's top option is the majority option (null without a majority). */
  correct: boolean | null;
}

export function decideValues(record: Pick<ContextRecord, "options" | "target" | "ptoken">, givenMajority: unknown): DecideContextValues {
  const q = record.ptoken!;
  const p = record.target;
  const top = Math.max(...q);
  const split = Math.max(...p) <= SPLIT_TOP;
  const majority = majorityKey(record.options, p, givenMajority);
  return {
    ...(p.length === 2 ? { p_b: q[1]!, b_rate: p[1]! } : {}),
    jsd: jsDistance(p, q),
    jsd_bits: jsDistanceBits(p, q),
    top,
    split,
    overconfident: split && top > CERTAIN_TOP,
    majority,
    correct: majority === null ? null : record.options[argmax(q)] === majority,
  };
}

/** Pearson's correlation; null with fewer than 3 pairs or a side constant up to rounding. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n < 3) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  // A side constant up to rounding (a model whose P(B) is 0.6 everywhere sums to ~1e-32, not 0) has no correlation.
  const flat = (ss: number, m: number) => Math.sqrt(ss / n) <= 1e-12 * Math.max(1, Math.abs(m));
  return flat(sxx, mx) || flat(syy, my) ? null : sxy / Math.sqrt(sxx * syy);
}

export interface DecideAggregate {
  /** Mean (P(B) − bRate)² over two-option contexts, with its bootstrap interval. */
  mse: Estimate;
  /** Pearson's r of P(B) and bRate over two-option contexts. */
  correlation: number | null;
  /** Share of contexts where the model is near-certain while people are split. */
  overconfident: Estimate;
  /** The same among the split contexts only (null when none is split). */
  overconfident_of_split: number | null;
  split: number;
  jsd: Estimate;
  jsd_bits: Estimate;
  /** Share of contexts with a majority whose top option is the model's top option. */
  accuracy: Estimate;
}

const valuesOf = (r: ContextRecord) => r.extra as unknown as DecideContextValues | undefined;

export function decideAggregate(records: readonly ContextRecord[], B: number, seedKey: string): DecideAggregate {
  const vs = records.flatMap((r) => (valuesOf(r) ? [valuesOf(r)!] : []));
  const binary = vs.filter((v) => v.p_b !== undefined);
  const split = vs.filter((v) => v.split);
  const withMajority = vs.filter((v) => v.correct !== null);
  return {
    mse: bootstrapMean(binary.map((v) => (v.p_b! - v.b_rate!) ** 2), B, `${seedKey}/mse`),
    correlation: pearson(binary.map((v) => v.p_b!), binary.map((v) => v.b_rate!)),
    overconfident: bootstrapMean(vs.map((v) => (v.overconfident ? 1 : 0)), B, `${seedKey}/overconfident`),
    overconfident_of_split: split.length ? split.filter((v) => v.overconfident).length / split.length : null,
    split: split.length,
    jsd: bootstrapMean(vs.map((v) => v.jsd), B, `${seedKey}/jsd`),
    jsd_bits: bootstrapMean(vs.map((v) => v.jsd_bits), B, `${seedKey}/jsd_bits`),
    accuracy: bootstrapMean(withMajority.map((v) => (v.correct ? 1 : 0)), B, `${seedKey}/accuracy`),
  };
}
