// The verdict rules as data, so that the same definitions drive the decision, the uncertainty check and the reasons.
// Every condition is a half-line on one metric, and within a rule every condition is on a different metric, so
// "does the rule hold everywhere in the CI box" and "can the rule hold somewhere in the box" are decided from the
// interval ends alone.

import type { Thresholds } from "./thresholds.ts";

/** The four metrics the rules read (means over runs of per-run values, as in Metrics). */
export interface Estimates {
  atvd: number;
  volatility: number;
  concentration: number;
  marginal_tvd: number;
}
export type MetricName = keyof Estimates;
export type Interval = [number, number];
/** Per-metric 95% intervals; the "box" is their product. */
export type Box = Record<MetricName, Interval>;

export type RuleName = "E" | "D" | "collapsed";
export type Decision = RuleName | "mixed";

export interface Condition {
  metric: MetricName;
  op: "<=" | ">=" | "<";
  threshold: keyof Thresholds;
}

export interface Rule {
  name: RuleName;
  conditions: Condition[];
  meaning: string;
}

/** In precedence order: when thresholds are overridden so that two rules overlap, the first that holds decides. */
export const RULES: readonly Rule[] = [
  {
    name: "E",
    conditions: [
      { metric: "atvd", op: "<=", threshold: "e_atvd" },
      { metric: "volatility", op: "<=", threshold: "e_volatility" },
    ],
    meaning: "each step stays close to P_task",
  },
  {
    name: "D",
    conditions: [
      { metric: "concentration", op: ">=", threshold: "d_concentration" },
      { metric: "volatility", op: ">=", threshold: "d_volatility" },
    ],
    meaning: "each step bets on one answer and the answer changes from step to step",
  },
  {
    name: "collapsed",
    conditions: [
      { metric: "concentration", op: ">=", threshold: "d_concentration" },
      { metric: "volatility", op: "<", threshold: "d_volatility" },
      { metric: "marginal_tvd", op: ">=", threshold: "collapsed_marginal" },
    ],
    meaning: "the model keeps betting on the same answers, away from P_task",
  },
];

export function holds(c: Condition, x: number, th: Thresholds): boolean {
  const t = th[c.threshold];
  return c.op === "<=" ? x <= t : c.op === ">=" ? x >= t : x < t;
}

/** The condition holds for every value in [lo, hi]. */
export function holdsEverywhere(c: Condition, [lo, hi]: Interval, th: Thresholds): boolean {
  return holds(c, lo, th) && holds(c, hi, th);
}

/** The condition holds for some value in [lo, hi]. */
export function holdsSomewhere(c: Condition, [lo, hi]: Interval, th: Thresholds): boolean {
  return holds(c, lo, th) || holds(c, hi, th);
}

export function ruleHolds(rule: Rule, est: Estimates, th: Thresholds): boolean {
  return rule.conditions.every((c) => holds(c, est[c.metric], th));
}

export function decide(est: Estimates, th: Thresholds): Decision {
  for (const rule of RULES) if (ruleHolds(rule, est, th)) return rule.name;
  return "mixed";
}

export interface BoxCheck {
  /** True when every point of the CI box gets the same verdict as the point estimates. */
  stable: boolean;
  /** Conditions of the deciding rule that fail somewhere in the box (their CI straddles the threshold). */
  straddled: Condition[];
  /** Other rules that some point of the box satisfies and that would win there (earlier rules, or any rule for mixed). */
  reachable: RuleName[];
}

/**
 * Is the verdict the same over the whole CI box? For a rule verdict R: every condition of R must hold at both ends of
 * its interval, and no rule of higher precedence may be satisfiable inside the box. For mixed: no rule may be
 * satisfiable inside the box (a rule it "nearly met").
 */
export function checkBox(decision: Decision, box: Box, th: Thresholds): BoxCheck {
  const satisfiable = (r: Rule) => r.conditions.every((c) => holdsSomewhere(c, box[c.metric], th));
  if (decision === "mixed") {
    const reachable = RULES.filter(satisfiable).map((r) => r.name);
    return { stable: reachable.length === 0, straddled: [], reachable };
  }
  const idx = RULES.findIndex((r) => r.name === decision);
  const rule = RULES[idx]!;
  const straddled = rule.conditions.filter((c) => !holdsEverywhere(c, box[c.metric], th));
  const reachable = RULES.slice(0, idx).filter(satisfiable).map((r) => r.name);
  return { stable: straddled.length === 0 && reachable.length === 0, straddled, reachable };
}

const SYMBOL: Record<Condition["op"], string> = { "<=": "≤", ">=": "≥", "<": "<" };
const NEGATION: Record<Condition["op"], string> = { "<=": ">", ">=": "<", "<": "≥" };

/** Formats x with enough decimals (2 to 6) that it does not print as equal to the threshold unless it is. */
export function fmt(x: number, threshold?: number): string {
  for (let d = 2; d <= 6; d++) {
    const s = x.toFixed(d);
    if (threshold === undefined || x === threshold || Number(s) !== threshold) return s;
  }
  return String(x);
}

export function describeCondition(c: Condition, x: number, th: Thresholds, met = true): string {
  const t = th[c.threshold];
  return `${c.metric} ${fmt(x, t)} ${met ? SYMBOL[c.op] : NEGATION[c.op]} ${t}`;
}

export function describeInterval(metric: MetricName, [lo, hi]: Interval, threshold?: number): string {
  return `${metric} [${fmt(lo, threshold)}, ${fmt(hi, threshold)}]`;
}

export function joinAnd(parts: string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}
